#include "app/auth/qr_svg.h"

#include <qrencode.h>

#include <memory>
#include <stdexcept>

namespace portcullis {

namespace {

constexpr int kQuietZone = 4;        // modules of white border (ISO/IEC 18004)
constexpr int kPixelsPerModule = 4;  // rendered size; viewBox is in modules

struct QrcodeFree {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

}  // namespace

std::string qr_svg(const std::string& text) {
  if (text.find('\0') != std::string::npos) {
    throw std::runtime_error("qr_svg: text contains a NUL byte");
  }
  std::unique_ptr<QRcode, QrcodeFree> code(
      QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!code || code->width <= 0 || code->data == nullptr) {
    throw std::runtime_error("qr_svg: QR encoding failed");
  }
  const int width = code->width;
  const std::string size = std::to_string(width + 2 * kQuietZone);
  const std::string pixels = std::to_string((width + 2 * kQuietZone) * kPixelsPerModule);

  // One subpath per horizontal run of dark modules: "M x,y h n v1 h-n z".
  std::string d;
  for (int y = 0; y < width; ++y) {
    const unsigned char* row = code->data + static_cast<size_t>(y) * static_cast<size_t>(width);
    int x = 0;
    while (x < width) {
      if ((row[x] & 1) == 0) {  // bit 0 of each byte: 1 = dark module
        ++x;
        continue;
      }
      const int start = x;
      while (x < width && (row[x] & 1) != 0) {
        ++x;
      }
      const std::string run = std::to_string(x - start);
      d += "M" + std::to_string(start + kQuietZone) + "," + std::to_string(y + kQuietZone) + "h" +
           run + "v1h-" + run + "z";
    }
  }

  std::string svg;
  svg.reserve(d.size() + 320);
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + size + " " + size +
         "\" width=\"" + pixels + "\" height=\"" + pixels +
         "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">";
  svg += "<rect width=\"" + size + "\" height=\"" + size + "\" fill=\"#fff\"/>";
  svg += "<path d=\"" + d + "\" fill=\"#000\"/>";
  svg += "</svg>";
  return svg;
}

}  // namespace portcullis

// The TOTP enrolment QR code as inline SVG (DESIGN §7; SECURITY-BAR MFA-1).
//
// The SVG is inserted into the SPA as DOM under a strict CSP, so it holds only
// an <svg> root, one white <rect> and one black <path>, with presentation
// attributes: no `style` attribute or element, no <script>, no `data:` URL, no
// reference to anything outside itself. Dark modules are unit squares in the
// path (runs of dark modules in a row are merged), with a 4-module quiet zone.
//
// Thread safety: may be called from several threads (libqrencode is built with
// pthread support on Debian).
#pragma once

#include <string>

namespace portcullis {

// Encodes `text` (byte mode where needed, error correction level M, smallest
// version that fits) and returns the SVG document. Throws std::runtime_error if
// libqrencode fails (text contains a NUL byte, is too long for version 40, or
// out of memory).
std::string qr_svg(const std::string& text);

}  // namespace portcullis

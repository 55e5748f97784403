"""A real SMTP server on loopback for the mail tests (Debian's python3-aiosmtpd).

    /usr/bin/python3 smtp_sink.py PORT DIR

Writes each accepted message to DIR/<n>.msg (written to a temporary name and
renamed, so a reader never sees half a message), prefixed with two lines that
record the SMTP envelope: X-Sink-Mail-From and X-Sink-Rcpt-To. Plain SMTP, no
AUTH: the deliverer reaches it only with PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK=1.
Runs until SIGTERM.
"""
import itertools
import os
import signal
import sys

from aiosmtpd.controller import Controller

port = int(sys.argv[1])
out = sys.argv[2]
counter = itertools.count()


class Sink:
    async def handle_DATA(self, server, session, envelope):
        name = "%d-%06d" % (os.getpid(), next(counter))
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(("X-Sink-Mail-From: <%s>\r\nX-Sink-Rcpt-To: %s\r\n" % (
                envelope.mail_from, ",".join("<%s>" % r for r in envelope.rcpt_tos))).encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(out, name + ".msg"))
        return "250 OK"


controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
while True:
    signal.pause()

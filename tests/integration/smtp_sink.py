"""A real SMTP server on loopback for the mail tests (Debian's python3-aiosmtpd).

    /usr/bin/python3 smtp_sink.py PORT DIR [--starttls | --implicit-tls]
                                           [--cert PEM --key PEM]
                                           [--auth USER PASSWORD_FILE]

Writes each accepted message to DIR/<n>.msg (written to a temporary name and
renamed, so a reader never sees half a message), prefixed with lines that
record the SMTP envelope and the session: X-Sink-Mail-From, X-Sink-Rcpt-To,
X-Sink-TLS (yes/no) and X-Sink-Auth (the user that authenticated, or -).
Runs until SIGTERM.

Without options: plain SMTP, no AUTH (the deliverer reaches it only with
PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK=1).
  --starttls      offers STARTTLS with --cert/--key and refuses mail before it
  --implicit-tls  TLS from the first byte (smtps) with --cert/--key
  --auth          AUTH PLAIN/LOGIN required (only over TLS when TLS is on);
                  the password is read from a file, so it is on no command line
"""
import argparse
import itertools
import os
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("dir")
mode = parser.add_mutually_exclusive_group()
mode.add_argument("--starttls", action="store_true")
mode.add_argument("--implicit-tls", action="store_true")
parser.add_argument("--cert")
parser.add_argument("--key")
parser.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD_FILE"))
args = parser.parse_args()

out = args.dir
counter = itertools.count()


class Sink:
    async def handle_DATA(self, server, session, envelope):
        name = "%d-%06d" % (os.getpid(), next(counter))
        tmp = os.path.join(out, name + ".tmp")
        tls = session.ssl is not None or \
            server.transport.get_extra_info("ssl_object") is not None
        user = "-"
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            user = session.auth_data.login.decode()
        with open(tmp, "wb") as f:
            f.write(("X-Sink-Mail-From: <%s>\r\nX-Sink-Rcpt-To: %s\r\n"
                     "X-Sink-TLS: %s\r\nX-Sink-Auth: %s\r\n" % (
                         envelope.mail_from,
                         ",".join("<%s>" % r for r in envelope.rcpt_tos),
                         "yes" if tls else "no", user)).encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(out, name + ".msg"))
        return "250 OK"


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


smtp_options = {}
controller_options = {}
if args.starttls:
    smtp_options.update(tls_context=tls_context(), require_starttls=True)
elif args.implicit_tls:
    controller_options["ssl_context"] = tls_context()

if args.auth:
    user = args.auth[0].encode()
    with open(args.auth[1], "rb") as f:
        password = f.read().strip()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            auth_data.login == user and auth_data.password == password
        # handled=False: aiosmtpd answers (235, or 535 on a wrong password).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    # auth_require_tls looks at STARTTLS only: over implicit TLS it would hide
    # AUTH, and over plain SMTP no TLS is offered to require.
    smtp_options.update(authenticator=authenticator, auth_required=True,
                        auth_require_tls=args.starttls)

controller = Controller(Sink(), hostname="127.0.0.1", port=args.port,
                        **controller_options, **smtp_options)
controller.start()
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
while True:
    signal.pause()

#!/usr/bin/python3
# A real SMTP server for the email alert tests: aiosmtpd (Debian python3-aiosmtpd) on HOST, port 0
# (the kernel picks one, written to PORTFILE), each message received appended to OUT as one JSON
# line: the HELO name, whether EHLO was used, the envelope and the DATA as received.
# A recipient starting with "reject" is refused with 550.
# usage: smtp-sink.py HOST PORTFILE OUT
import asyncio
import json
import sys

from aiosmtpd.smtp import SMTP

host, portfile, out = sys.argv[1:4]


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('reject'):
            return '550 no such user here'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        with open(out, 'a') as f:
            f.write(json.dumps({
                'helo': session.host_name,
                'esmtp': session.extended_smtp,
                'from': envelope.mail_from,
                'to': envelope.rcpt_tos,
                'data': envelope.original_content.decode('latin1'),
            }) + '\n')
        return '250 Message accepted for delivery'


async def main():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(Handler(), hostname='sink.test'), host, 0)
    with open(portfile + '.tmp', 'w') as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    import os
    os.rename(portfile + '.tmp', portfile)
    await srv.serve_forever()

asyncio.run(main())

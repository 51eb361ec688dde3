"""Delivery channels: how a notice reaches a resident (e-mail over SMTP, a webhook).

Adapters for the outbox (:mod:`guihua.usecases.outbox`), which decides what
to send and when; each channel only carries one message.
"""

"""Delivering notices to residents: the outbox, its channels (e-mail, webhook) and contacts.

Notices are *created* with the records that cause them (:mod:`guihua.usecases.notices`);
this package only carries them out, at least once per channel, keyed by the notice id.
"""

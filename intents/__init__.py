"""Understanding Chinese text: field taxonomy, Hunan regions, and the demand classifier.

Pure by design: no I/O at request time and no imports of a chat channel, sqlalchemy or the
other rooms. Resources load once, when a caller builds them at start-up.
"""

"""One storage interface for uploaded files: local disk by default, S3-compatible in production.

Code stores and reads files by key (`avatars/ab12-256.webp`, `attachments/2026/11/…`) through
`storage()`; nothing else writes uploads to disk. Keys are made by the callers from random
tokens, never from names a user typed.
"""
from marketplace.storage.backends import (LocalStorage, S3Storage, Storage, StoredFileMissing, init_storage,
                                          storage)

__all__ = ["LocalStorage", "S3Storage", "Storage", "StoredFileMissing", "init_storage", "storage"]

"""Originals from HTTP(S) origins, as Thumbor's HTTP loader serves them, behind an SSRF guard.

urls.py reads the image part of the URL (Thumbor's forms) and ALLOWED_SOURCES; addresses.py
resolves a host once and refuses every address that is not public unless opened; client.py
GETs through urllib3 to the checked address, within the time and size limits; cache.py keeps
originals with their origin's validators and freshness; source.py is the `Source`. Turned on by
LOADERS (loaders.py); docs/http-origins.md says how, and what each switch risks.
"""

"""AWS Serverless Image Handler (SIH, v6) and Dynamic Image Transformation for Amazon CloudFront
(v7) compatibility, turned on by `SIH_COMPAT=true`: the same requests answered the same way, on
the Lambda and on the local server alike.

- request.py reads a request as SIH does: its type (default, Thumbor, custom), its signature
  (v6 and v7), `expires`, the query parameters' edits, the rewrite rules, the response headers.
- edits.py runs a default request's edits as SIH's sharp pipeline orders them, on Pillow, with
  the memory and CPU cost of each declared before a pixel is decoded.
- ops.py holds the sharp operations that Thumbor's filters do not cover (negate, normalise,
  tint, modulate, any-angle rotate, ...).
- route.py is what App calls: the SIH answer, or the Thumbor path the core serves.

docs/sih.md says what works the same and what differs.
"""

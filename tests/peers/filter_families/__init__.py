"""Differential tests of the canvas, overlay, geometry and output filters: the real Thumbor 7.8.0
against our App, in process, one module per family of filters.

    test_baseline.py        same-size PNG requests leave the source untouched on both sides
    test_overlays.py        background_color, watermark
    test_frame.py           frame (against expectations worked out by hand: Thumbor's is broken)
    test_round_corner.py    round_corner
    test_proportion.py      proportion
    test_focal.py           focal, extract_focal
    test_output_options.py  autojpg, cover, max_bytes, strip_exif, strip_icc

What they share: conftest.py (the two Thumbors and the two Apps, started once for the folder),
sources.py (the images both sides read), answers.py (asking each side, and the COMPOSITE
comparison with its measurements), differences.py (DIFFERENCES and OUR_BUGS).

As in test_differential_filters.py, sources are lossless PNGs and most URLs ask for the source's
own size with `format(png)`, so that neither side resamples or encodes lossily and only the
filter is compared (test_baseline.py checks that: infinite PSNR with no filter).

How answers are compared, with the thresholds measured and the near misses they must fail (each
module's threshold tests re-measure the near misses on Thumbor's own answers): COMPOSITE in
answers.py, the others in the docstring of the module that uses them.

Where we differ on purpose or Thumbor is wrong: each module's DIFFERENCES, each with a check of
both sides. Bugs of ours they found: each module's OUR_BUGS, now fixed and kept as regression
tests, with the Thumbor facts they rest on checked separately (test_our_bug_thumbor_side).
"""

"""smart/ with detectors: the chain, the small copy, the cache per original, smart_crop(),
debug/ and meta/, and the crop boxes Thumbor gives with its face detector."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys

import pytest
from PIL import Image, ImageDraw

from tests.images import CORPUS, SAMPLES, decode, encode, gradient
from thumbor_urls.app import App
from thumbor_urls.config import SettingError, Settings
from thumbor_urls.detectors import (
    FACE,
    SALIENCY,
    Detection,
    DetectorError,
    Region,
    build_detectors,
    run_chain,
    sample,
)
from thumbor_urls.detectors.saliency import SaliencyDetector
from thumbor_urls.detectors.service import DetectionService
from thumbor_urls.geometry import center_of_mass
from thumbor_urls.messages import Request
from thumbor_urls.stores import FolderResultStore, NoResultStore


class Counting:
    """A detector that answers fixed regions (in the copy's pixels) and counts its calls."""

    finds = FACE
    whole = False

    def __init__(self, regions=(), name="counting", error=None):
        self.name = name
        self.regions = list(regions)
        self.error = error
        self.seen: list[tuple[int, int]] = []

    def detect(self, image):
        self.seen.append(image.size)
        if self.error is not None:
            raise self.error
        return list(self.regions)


def centre_region(size, kind=FACE):
    width, height = size
    return Region(width / 2 - 10, height / 2 - 10, 20, 20, kind, "Test")


def make_app(root, tmp_path, detectors=None, **overrides):
    settings = Settings(
        FILE_LOADER_ROOT_PATH=root,
        RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=tmp_path / "results",
    ).replace(**overrides)
    app = App(settings)
    if detectors is not None:
        app.detectors = DetectionService.from_settings(
            settings, app.results, repr(app.source), detectors
        )
    return app


def get(app, path):
    return app.handle(Request("GET", path, {}))


def meta(app, path):
    response = get(app, f"/unsafe/meta/{path}")
    assert response.status == 200, response.body
    return json.loads(response.body)["thumbor"]


def crop_box(info):
    crops = [op for op in info["operations"] if op["type"] == "crop"]
    assert len(crops) == 1, info["operations"]
    return tuple(crops[0][k] for k in ("left", "top", "right", "bottom"))


# --- the chain ---------------------------------------------------------------------------------


def test_the_first_detector_that_finds_something_wins():
    image = Image.new("RGB", (100, 50))
    empty = Counting([], "empty")
    first = Counting([centre_region(image.size)], "first")
    second = Counting([centre_region(image.size)], "second")
    detection = run_chain([empty, first, second], image)
    assert detection.detector == "first"
    assert (len(empty.seen), len(first.seen), len(second.seen)) == (1, 1, 0)
    assert run_chain([empty], image) == Detection((), None)


def test_a_failing_detector_is_logged_and_the_next_one_answers(caplog):
    image = Image.new("RGB", (100, 50))
    broken = Counting(name="broken", error=DetectorError("Rekognition detect_faces: Throttling"))
    crashing = Counting(name="crashing", error=RuntimeError("cv2.error"))
    working = Counting([centre_region(image.size)], "working")
    with caplog.at_level(logging.WARNING, "thumbor_urls.detectors"):
        detection = run_chain([broken, crashing, working], image)
    assert detection.detector == "working"
    assert detection.failed == ("broken", "crashing")
    assert "broken failed" in caplog.text and "Throttling" in caplog.text


def test_detectors_setting_builds_the_chain_in_order():
    pytest.importorskip("cv2")
    names = Settings(DETECTORS=("saliency", "thumbor.detectors.feature_detector", "face"))
    assert [d.name for d in build_detectors(names)] == ["saliency", "features", "opencv"]
    with pytest.raises(SettingError, match="unknown detector 'glasses'"):
        build_detectors(Settings(DETECTORS=("glasses",)))
    assert Settings.from_env({"DETECTORS": "opencv, saliency"}).DETECTORS == ("opencv", "saliency")


def test_faces_become_thumbor_focal_points():
    # Thumbor's from_square: integer half sides added to the (fractional) corner, then truncated,
    # weighted by the area.
    point = Region(174, 51.88, 101, 101, FACE, "Face Detection").focal_point()
    assert (point.x, point.y, point.width, point.height) == (224, 101, 101, 101)
    assert point.weight == 10201
    assert point.origin == "Face Detection"


# --- the small copy ----------------------------------------------------------------------------


def test_the_copy_is_small_and_upright():
    big = Image.new("RGB", (3000, 1200))
    assert sample(big, 1, 600).size == (600, 240)
    assert sample(big, 6, 600).size == (240, 600)  # EXIF 6: displayed turned a quarter
    small = Image.new("L", (300, 200))
    copy = sample(small, 1, 600)
    assert (copy.size, copy.mode) == ((300, 200), "RGB")
    assert sample(Image.new("LA", (10, 10)), 1, 600).mode == "RGBA"


def test_detection_runs_on_a_copy_and_points_map_back_to_the_working_image(tmp_path):
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(SAMPLES / "dandelions.jpg", root / "big.jpg")  # 5312x2988
    detector = Counting([Region(540, 200, 60, 60, FACE, "Test")])
    app = make_app(root, tmp_path, [detector], RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=None)
    info = meta(app, "300x300/smart/big.jpg")
    assert detector.seen == [(600, 338)]
    [point] = info["focal_points"]
    scale = 5312 / 600
    assert point["x"] == pytest.approx((540 + 30) * scale, abs=2)
    assert point["y"] == pytest.approx((200 + 30) * 2988 / 338, abs=2)
    assert point["origin"] == "Test"
    left, _, right, _ = crop_box(info)
    assert (left, right) == (5312 - 2988, 5312)  # pushed against the right edge, as Thumbor does


def test_the_jpeg_draft_never_goes_below_the_copy_size(tmp_path):
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(SAMPLES / "dandelions.jpg", root / "big.jpg")
    detector = Counting([])
    app = make_app(root, tmp_path, [detector])
    assert get(app, "/unsafe/40x40/smart/big.jpg").status == 200
    # A 40x40 thumbnail alone would decode at 1/8 (664x374); the copy is still 600 wide.
    assert detector.seen == [(600, 338)]


def test_an_exif_rotated_original_is_seen_upright(tmp_path):
    root = tmp_path / "originals"
    root.mkdir()
    shutil.copy(SAMPLES / "dandelions-exif-rotated.jpg", root / "r.jpg")
    detector = Counting([])
    app = make_app(root, tmp_path, [detector])
    info = meta(app, "100x100/smart/r.jpg")
    # Stored 1350x2400 with orientation 6: displayed (and seen) 2400x1350.
    assert (info["source"]["width"], info["source"]["height"]) == (2400, 1350)
    assert detector.seen == [(600, 338)]


# --- cached per original -----------------------------------------------------------------------


def test_a_second_size_of_the_same_image_runs_no_detection(root, tmp_path):
    detector = Counting([centre_region((512, 512))])
    app = make_app(root, tmp_path, [detector])
    for size in ("200x100", "100x200", "50x50"):
        assert get(app, f"/unsafe/{size}/smart/astronaut.jpg").status == 200
    assert len(detector.seen) == 1
    # A new App (a new process) over the same result store reads the same answer.
    again = make_app(root, tmp_path, [detector])
    assert meta(again, "120x60/smart/astronaut.jpg")["focal_points"][0]["origin"] == "Test"
    assert len(detector.seen) == 1
    # Another image, another chain or a changed original is looked at again.
    get(app, "/unsafe/100x100/smart/pan.gif")
    assert len(detector.seen) == 2
    other = Counting([centre_region((512, 512))], name="other")
    get(make_app(root, tmp_path, [other]), "/unsafe/100x80/smart/astronaut.jpg")
    assert len(other.seen) == 1
    stamp = (root / "astronaut.jpg").stat().st_mtime + 10
    os.utime(root / "astronaut.jpg", (stamp, stamp))
    get(app, "/unsafe/100x90/smart/astronaut.jpg")
    assert len(detector.seen) == 3


def test_trim_changes_the_working_image_and_so_the_cache_entry(root, tmp_path):
    framed = Image.new("RGB", (300, 200), "white")
    framed.paste(gradient((200, 100)), (50, 50))
    (root / "framed.png").write_bytes(encode(framed, "PNG"))
    detector = Counting([])
    app = make_app(root, tmp_path, [detector])
    get(app, "/unsafe/100x100/smart/framed.png")
    get(app, "/unsafe/trim/100x100/smart/framed.png")
    assert detector.seen == [(300, 200), (200, 100)]


def test_without_smart_nothing_is_detected(root, tmp_path):
    detector = Counting([centre_region((512, 512))])
    app = make_app(root, tmp_path, [detector])
    info = meta(app, "200x100/astronaut.jpg")
    assert detector.seen == []
    assert info["focal_points"][0]["origin"] == "alignment"
    assert "detector" not in info


def test_a_failed_detector_keeps_the_answer_and_the_result_out_of_the_store(root, tmp_path):
    broken = Counting(name="broken", error=DetectorError("throttled"))
    fallback = Counting([centre_region((512, 512))], name="fallback")
    app = make_app(root, tmp_path, [broken, fallback])
    for _ in range(2):
        response = get(app, "/unsafe/200x100/smart/astronaut.jpg")
        assert response.status == 200
    assert len(broken.seen) == len(fallback.seen) == 2
    assert not list((tmp_path / "results").glob("*/*.json"))


def test_detector_data_in_the_folder_store(tmp_path):
    store = FolderResultStore(tmp_path)
    assert store.get_data("ab12") is None
    store.put_data("ab12", {"regions": [1, 2]})
    assert store.get_data("ab12") == {"regions": [1, 2]}
    (tmp_path / "data" / "ab" / "ab12.json").write_text("[not json")
    assert store.get_data("ab12") is None
    assert NoResultStore().get_data("ab12") is None


# --- Thumbor's crops with OpenCV ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"), [("200x100", (0, 0, 512, 256)), ("100x200", (96, 0, 352, 512))]
)
def test_opencv_reproduces_thumbors_face_crops(root, tmp_path, size, expected):
    pytest.importorskip("cv2")
    app = make_app(root, tmp_path, DETECTORS=("opencv", "saliency"))
    info = meta(app, f"{size}/smart/astronaut.jpg")
    assert crop_box(info) == expected
    assert info["detector"] == "opencv"
    [face] = info["focal_points"]
    assert (face["x"], face["y"], face["origin"]) == (224, 101, "Face Detection")
    # The image itself is cropped the same way (meta/ and the pipeline share the geometry).
    response = get(app, f"/unsafe/{size}/smart/astronaut.jpg")
    assert decode(response.body).size == tuple(int(v) for v in size.split("x"))


@pytest.mark.parametrize("name", ["face_astronaut_512x512.jpg", "face_astronaut_512x512.png"])
def test_opencv_finds_the_face_in_the_corpus_photo(name):
    pytest.importorskip("cv2")
    from thumbor_urls.detectors.opencv import OpenCVFaceDetector

    path = CORPUS / name
    image = sample(Image.open(path), 1, 600)
    [face] = OpenCVFaceDetector().detect(image)
    # The astronaut's face: about 100 px wide, left of centre, in the upper quarter.
    assert 150 < face.left + face.width / 2 < 300
    assert 60 < face.top + face.height / 2 < 150
    assert 80 < face.width < 130
    assert face.kind == FACE


def test_opencv_finds_no_face_in_a_landscape():
    pytest.importorskip("cv2")
    from thumbor_urls.detectors.opencv import OpenCVFaceDetector

    assert OpenCVFaceDetector().detect(sample(Image.open(SAMPLES / "dandelions.jpg"), 1, 600)) == []


# --- saliency ----------------------------------------------------------------------------------


def test_saliency_finds_the_detailed_part_of_a_picture():
    # A smooth picture with one busy patch on the right: the crop must keep the patch.
    image = gradient((600, 300))
    patch = Image.effect_noise((80, 80), 120).convert("RGB")
    image.paste(patch, (460, 40))
    regions = SaliencyDetector().detect(image)
    assert regions and all(r.kind == SALIENCY and r.origin == "Saliency" for r in regions)
    x, y = center_of_mass(tuple(r.focal_point() for r in regions))
    assert 440 <= x <= 560 and 20 <= y <= 140


def test_saliency_says_nothing_about_a_flat_picture():
    assert SaliencyDetector().detect(Image.new("RGB", (400, 300), (30, 90, 200))) == []
    assert SaliencyDetector().detect(gradient((400, 300))) == []


def test_saliency_on_the_dandelion_photo_picks_the_big_seed_head():
    image = sample(Image.open(SAMPLES / "dandelions.jpg"), 1, 600)
    regions = SaliencyDetector().detect(image)
    x, y = center_of_mass(tuple(r.focal_point() for r in regions))
    # The big seed head in front covers roughly x 80-270, y 30-190 of the 600x338 copy.
    assert 90 <= x <= 260 and 30 <= y <= 190


def test_saliency_ignores_the_outline_of_a_cut_out():
    image = sample(Image.open(SAMPLES / "dandelions-cutout.png"), 1, 600)
    alpha = image.getchannel("A")
    for region in SaliencyDetector().detect(image):
        point = region.focal_point()
        assert alpha.getpixel((point.x, point.y)) == 255


@pytest.mark.parametrize("name", ["astronaut.jpg", "dandelions.jpg", "dandelions-exif-rotated.jpg"])
def test_smart_crops_of_the_sample_photos_with_saliency(tmp_path, name):
    app = make_app(SAMPLES, tmp_path, DETECTORS=("saliency",))
    info = meta(app, f"150x150/smart/{name}")
    assert info["detector"] == "saliency"
    assert all(p["origin"] == "Saliency" for p in info["focal_points"])
    width, height = info["source"]["width"], info["source"]["height"]
    for point in info["focal_points"]:
        assert 0 <= point["x"] <= width and 0 <= point["y"] <= height


def test_the_dandelion_crop_moves_to_the_seed_head(tmp_path):
    plain = meta(make_app(SAMPLES, tmp_path, DETECTORS=()), "100x200/smart/dandelions.jpg")
    smart = meta(
        make_app(SAMPLES, tmp_path, DETECTORS=("saliency",)), "100x200/smart/dandelions.jpg"
    )
    assert crop_box(plain)[0] == (5312 - 1494) // 2  # centred without detectors, as Thumbor
    left, _, right, _ = crop_box(smart)
    # The seed head's centre (about x 1550 of 5312) is kept, well left of the centred crop.
    assert left <= 1550 <= right and left < 1909 - 500


# --- smart_crop(), debug/, focal() -------------------------------------------------------------


def test_smart_crop_crops_to_the_face_with_padding(root, tmp_path):
    face = Region(174, 52, 101, 101, FACE, "Test")
    app = make_app(root, tmp_path, [Counting([face])])
    info = meta(app, "filters:smart_crop(0,10)/astronaut.jpg")
    assert crop_box(info) == (164, 42, 285, 163)
    assert info["target"] == {"width": 121, "height": 121}
    image = decode(get(app, "/unsafe/60x60/filters:smart_crop(0,10)/astronaut.jpg").body)
    assert image.size == (60, 60)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ("smart_crop(1)", "face_index 1 is out of range; this image has 1 face(s)"),
        ("smart_crop(-1)", "face_index -1 is out of range"),
        ("smart_crop(0,100)", "a padding of 100 pixels leaves the image"),
        ("smart_crop(0,-5)", "padding must be 0 or more"),
    ],
)
def test_smart_crop_with_a_bad_index_or_padding_is_a_400(root, tmp_path, filters, message):
    app = make_app(root, tmp_path, [Counting([Region(174, 52, 101, 101, FACE, "T")])])
    response = get(app, f"/unsafe/100x100/filters:{filters}/astronaut.jpg")
    assert response.status == 400
    body = json.loads(response.body)
    assert body["code"] == "InvalidFilterArgument" and message in body["message"]


def test_smart_crop_without_faces_or_face_detector(root, tmp_path):
    salient = Counting([Region(0, 0, 50, 50, SALIENCY, "Saliency")])
    response = get(
        make_app(root, tmp_path, [salient]), "/unsafe/filters:smart_crop()/astronaut.jpg"
    )
    assert response.status == 400
    assert "no face was found" in json.loads(response.body)["message"]
    response = get(make_app(root, tmp_path, []), "/unsafe/filters:smart_crop()/astronaut.jpg")
    assert response.status == 501
    assert "DETECTORS" in json.loads(response.body)["message"]


def test_debug_outlines_the_detected_points(root, tmp_path):
    app = make_app(root, tmp_path, [Counting([Region(174, 52, 101, 101, FACE, "Test")])])
    path = "100x200/smart/filters:format(png)/astronaut.jpg"
    plain = decode(get(app, f"/unsafe/{path}").body).convert("RGB")
    debug = decode(get(app, f"/unsafe/debug/{path}").body).convert("RGB")
    assert plain.size == debug.size
    # The face's outline (red) sits where the face is: x 174-275 of the crop 96-352, scaled.
    pixels = debug.load()
    assert pixels is not None
    red = [
        (x, y)
        for x in range(debug.width)
        for y in range(debug.height)
        if pixels[x, y] == (255, 0, 0)
    ]
    assert red
    xs = [x for x, _ in red]
    assert min(xs) >= (174 - 96) * 100 / 256 - 3 and max(xs) <= (275 - 96) * 100 / 256 + 3


def test_explicit_focal_points_and_detected_ones_are_listed_with_their_origin(root, tmp_path):
    app = make_app(root, tmp_path, [Counting([Region(174, 52, 101, 101, FACE, "Face Detection")])])
    info = meta(app, "100x200/smart/filters:focal(0x0:20x20)/astronaut.jpg")
    assert [p["origin"] for p in info["focal_points"]] == ["Explicit", "Face Detection"]


def test_a_face_detector_chain_on_a_drawn_picture_falls_back_to_saliency(root, tmp_path):
    pytest.importorskip("cv2")
    picture = Image.new("RGB", (400, 200), (200, 200, 200))
    ImageDraw.Draw(picture).rectangle((300, 50, 380, 150), fill="black")
    (root / "drawn.png").write_bytes(encode(picture, "PNG"))
    app = make_app(root, tmp_path, DETECTORS=("opencv", "saliency"))
    info = meta(app, "100x100/smart/drawn.png")
    assert info["detector"] == "saliency"
    assert crop_box(info) == (200, 0, 400, 200)


def test_no_detectors_leave_smart_to_the_alignment(root, tmp_path):
    app = make_app(root, tmp_path, DETECTORS=())
    info = meta(app, "100x200/smart/astronaut.jpg")
    assert crop_box(info) == (128, 0, 384, 512)
    assert "detector" not in info


def test_a_missing_extra_is_a_clear_setting_error(monkeypatch):
    # As if opencv-python-headless were not installed.
    monkeypatch.setitem(sys.modules, "cv2", None)
    monkeypatch.delitem(sys.modules, "thumbor_urls.detectors.opencv", raising=False)
    with pytest.raises(SettingError, match=r"DETECTORS names 'opencv', which needs cv2"):
        build_detectors(Settings(DETECTORS=("opencv",)))


def test_the_face_detector_runs_in_several_threads_at_once():
    pytest.importorskip("cv2")
    from concurrent.futures import ThreadPoolExecutor

    from thumbor_urls.detectors.opencv import OpenCVFaceDetector

    source = Image.open(SAMPLES / "astronaut.jpg")
    source.load()  # the pipeline hands detectors decoded frames, never a lazily read file
    image = sample(source, 1, 600)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: OpenCVFaceDetector().detect(image), range(8)))
    assert all(answer == answers[0] and len(answer) == 1 for answer in answers)

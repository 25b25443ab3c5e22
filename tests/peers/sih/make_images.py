"""Writes the small originals of the SIH differential suite (images/) from tests/corpus.

Run once; the files are committed, so that the recorded answers and the test read the same
bytes whatever Pillow's encoders do later.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

CORPUS = Path(__file__).parents[2] / "corpus"
OUT = Path(__file__).parent / "images"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    sunset = Image.open(CORPUS / "photo_sunset_4272x2848.jpg").convert("RGB")
    photo = sunset.resize((200, 133), Image.Resampling.LANCZOS)
    photo.save(OUT / "photo.jpg", quality=90)
    photo.save(OUT / "cached.jpg", quality=90)  # uploaded with Cache-Control and Expires
    photo.save(OUT / "noext", "JPEG", quality=90)
    photo.resize((120, 80)).save(OUT / "photo.webp", quality=90)
    face = Image.open(CORPUS / "face_astronaut_512x512.jpg").convert("RGB")
    face.resize((128, 128), Image.Resampling.LANCZOS).save(OUT / "face.jpg", quality=90)
    cutout = Image.open(CORPUS / "alpha_cutout_dandelions_1600x900.png").convert("RGBA")
    cutout.resize((160, 90), Image.Resampling.LANCZOS).save(OUT / "alpha.png")
    turned = Image.open(CORPUS / "exif_orientation6_2400x1350_display.jpg")
    exif = turned.getexif()
    small = turned.resize((120, 68), Image.Resampling.LANCZOS)
    small.save(OUT / "exif6.jpg", quality=90, exif=exif.tobytes())
    with Image.open(CORPUS / "animated_pan_16f_480x270.gif") as gif:
        frames = []
        for index in range(0, 8, 2):
            gif.seek(index)
            frames.append(gif.convert("RGB").resize((96, 54)).quantize(64))
    frames[0].save(OUT / "anim.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    logo = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((2, 2, 37, 27), fill=(255, 255, 255, 220), outline=(200, 0, 0, 255), width=3)
    draw.rectangle((14, 10, 25, 19), fill=(0, 90, 200, 255))
    logo.save(OUT / "logo.png")


if __name__ == "__main__":
    main()

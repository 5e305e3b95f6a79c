import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from explorer.data import upload
from explorer.data.upload import UploadError, open_image, preprocess
from tests.helpers import bomb_png


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def dark_digit_on_white(w=200, h=300) -> Image.Image:
    im = Image.new("RGB", (w, h), "white")
    ImageDraw.Draw(im).rectangle([80, 50, 120, 250], fill="black")  # a "1"
    return im


def test_light_background_is_inverted_cropped_and_centred():
    out, steps = preprocess(png(dark_digit_on_white()), (1, 28, 28), pad=4)
    assert out.shape == (1, 28, 28) and out.dtype == np.uint8
    assert steps["inverted"] and steps["original size"] == (200, 300)
    ys, xs = np.nonzero(out[0] > 128)
    # 41 x 201 box fitted to 20 px high, centred
    assert ys.min() >= 4 and ys.max() <= 23
    assert abs((xs.min() + xs.max()) / 2 - 13.5) <= 1
    assert out[0, 0, 0] == 0  # black background, like the datasets


def test_dark_background_kept_and_jpeg_rgb_accepted():
    im = Image.new("RGB", (64, 64), "black")
    ImageDraw.Draw(im).ellipse([10, 10, 54, 54], outline="white", width=6)
    out, steps = preprocess(jpeg(im), (1, 28, 28), pad=2)
    assert not steps["inverted"] and out.max() > 200 and out[0, 14, 14] < 60


def test_transparent_png_reads_as_strokes_on_black():
    im = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle([20, 5, 30, 45], fill=(0, 0, 0, 255))
    out, steps = preprocess(png(im), (1, 28, 28))
    assert steps["inverted"] and out[0].max() > 200 and out[0, 0, 0] == 0


def test_three_channel_target():
    out, _ = preprocess(png(dark_digit_on_white()), (3, 32, 32))
    assert out.shape == (3, 32, 32) and np.array_equal(out[0], out[2])


def test_not_an_image_is_refused():
    for data in (b"hello, this is text", b"%PDF-1.4 ...", b""):
        with pytest.raises(UploadError):
            preprocess(data, (1, 28, 28))


def test_other_formats_and_damaged_files_are_refused():
    buf = io.BytesIO()
    Image.new("L", (10, 10)).save(buf, format="BMP")
    with pytest.raises(UploadError, match="PNG or JPEG"):
        open_image(buf.getvalue())
    with pytest.raises(UploadError):
        open_image(png(dark_digit_on_white())[:200])


def test_blank_image_is_refused():
    with pytest.raises(UploadError, match="blank"):
        preprocess(png(Image.new("L", (40, 40), 255)), (1, 28, 28))


def test_huge_file_refused_before_reading(monkeypatch):
    monkeypatch.setattr(upload, "MAX_BYTES", 1000)
    with pytest.raises(UploadError, match="limit"):
        open_image(b"\x89PNG" + b"0" * 2000)


def test_decompression_bomb_refused_unread():
    data = bomb_png(100_000, 100_000)  # 10 gigapixels in a few hundred bytes
    assert len(data) < 2000
    with pytest.raises(UploadError, match="megapixels"):
        open_image(data)
    # under Pillow's own bomb limit, over ours
    with pytest.raises(UploadError, match="6000 x 6000 pixels"):
        open_image(bomb_png(6000, 6000))


def test_sixteen_bit_and_palette_images():
    arr = np.full((60, 40), 5000, np.uint16)  # dark grey, but above 255
    arr[10:50, 15:25] = 60000  # a bright bar, 16 bits deep
    out, steps = preprocess(png(Image.fromarray(arr)), (1, 28, 28))
    assert not steps["inverted"] and out.max() > 200
    pal = dark_digit_on_white().convert("P", palette=Image.Palette.ADAPTIVE)
    out, steps = preprocess(png(pal), (1, 28, 28), pad=4)
    assert steps["inverted"] and out.max() > 200 and out[0, 0, 0] == 0

import pytest
from PIL import Image

from rqledger.demo import create_image_set
from rqledger.demo.create_image_set import ImageNotUsable


@pytest.fixture
def media(service, tmp_path):
    folder = tmp_path / "media"
    (folder / "photos").mkdir(parents=True)
    return folder


def test_makes_resized_copies_keeping_the_aspect_ratio(media):
    Image.new("RGB", (1600, 800), "teal").save(media / "photos" / "wide.jpg")

    result = create_image_set("photos/wide.jpg")

    assert result["source"] == "photos/wide.jpg"
    assert (result["width"], result["height"]) == (1600, 800)
    assert result["images"]["thumbnail"] == {"path": "photos/wide_set/thumbnail.jpg", "width": 128, "height": 64}
    assert result["images"]["large"]["width"] == 1280
    for image in result["images"].values():
        with Image.open(media / image["path"]) as copy:
            assert copy.size == (image["width"], image["height"])
            assert copy.format == "JPEG"


def test_never_enlarges_a_small_image(media):
    Image.new("RGBA", (200, 100), (255, 0, 0, 128)).save(media / "small.png")
    images = create_image_set("small.png")["images"]
    assert (images["thumbnail"]["width"], images["small"]["width"], images["large"]["width"]) == (128, 200, 200)


@pytest.mark.parametrize("path", ["../outside.png", "/etc/passwd", ""])
def test_refuses_paths_outside_the_media_folder(media, path):
    with pytest.raises(ImageNotUsable, match="not inside the media folder"):
        create_image_set(path)


def test_a_missing_or_broken_image_fails_clearly(media):
    with pytest.raises(ImageNotUsable, match="no image at nope.png"):
        create_image_set("nope.png")
    (media / "text.png").write_text("not an image")
    with pytest.raises(ImageNotUsable, match="not an image Pillow can read"):
        create_image_set("text.png")

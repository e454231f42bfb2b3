"""create_image_set: resized copies of an image (Pillow), for a gallery or a feed."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from rqledger.demo.resources import media_dir
from rqledger import set_progress, task

# name -> the longest side in pixels
SIZES = {"thumbnail": 128, "small": 320, "medium": 640, "large": 1280}
MAX_PIXELS = 64_000_000  # refuses decompression bombs long before they eat the worker's memory


class ImageNotUsable(ValueError):
    """The path is outside the media folder, missing, or not an image Pillow can read."""


@task(description="Makes thumbnail, small, medium and large copies of an image in the media folder")
def create_image_set(path: str) -> dict:
    """`path` is relative to the media folder (RQLEDGER_MEDIA_DIR); the copies go to <name>_set/ beside it."""
    root = media_dir().resolve()
    source = resolve_inside(root, path)
    target = source.parent / f"{source.stem}_set"
    try:
        with Image.open(source) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise ImageNotUsable(f"{path} has {opened.width}x{opened.height} pixels, more than {MAX_PIXELS}")
            image = ImageOps.exif_transpose(opened)  # phones store rotation in EXIF: apply it once, here
            image.load()
            fmt = opened.format or "PNG"
    except FileNotFoundError:
        raise ImageNotUsable(f"no image at {path} in the media folder {root}") from None
    except UnidentifiedImageError:
        raise ImageNotUsable(f"{path} is not an image Pillow can read") from None
    target.mkdir(exist_ok=True)
    suffix = source.suffix.lower() or ".png"
    images = {}
    for done, (name, longest) in enumerate(SIZES.items(), start=1):
        copy = image.copy()
        copy.thumbnail((longest, longest))  # keeps the aspect ratio; never enlarges
        if fmt == "JPEG" and copy.mode not in ("RGB", "L"):
            copy = copy.convert("RGB")
        out = target / f"{name}{suffix}"
        copy.save(out, format=fmt)
        images[name] = {"path": str(out.relative_to(root)), "width": copy.width, "height": copy.height}
        set_progress(100 * done // len(SIZES))
    return {"source": str(source.relative_to(root)), "width": image.width, "height": image.height,
            "media_dir": str(root), "images": images}


def resolve_inside(root: Path, path: str) -> Path:
    """`path` under `root`; refuses absolute paths and any `..` that would leave it (symlinks included)."""
    candidate = (root / path).resolve()
    if not path or Path(path).is_absolute() or not candidate.is_relative_to(root):
        raise ImageNotUsable(f"{path!r} is not inside the media folder {root}: give a path relative to it")
    return candidate

"""Build the compiled core: every csrc/<unit>/<unit>.pyx becomes pykube_plane._<unit>.

No generated C is shipped; cythonize() runs here at build time.
"""
import shutil
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
CSRC = HERE / "csrc"
# Cython finds a module's own .pxd by its dotted name (pykube_plane._<unit>), not by the .pyx
# file name, so each csrc/<unit>/<unit>.pxd is mirrored there (mtime kept: no needless rebuild).
PXD_MIRROR = HERE / "build" / "cython_pxd"


def mirror_pxd(pxd: Path, unit: str) -> None:
    target = PXD_MIRROR / "pykube_plane" / f"_{unit}.pxd"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_bytes() != pxd.read_bytes():
        shutil.copy2(pxd, target)


def compiled_units() -> list[Extension]:
    extensions = []
    for pyx in sorted(CSRC.glob("*/*.pyx")):
        unit = pyx.parent.name
        if pyx.stem != unit:
            continue  # helpers included by the unit's own .pyx
        if pyx.with_suffix(".pxd").exists():
            mirror_pxd(pyx.with_suffix(".pxd"), unit)
        extensions.append(
            Extension(
                f"pykube_plane._{unit}",
                [str(pyx.relative_to(HERE))],
                include_dirs=[str(pyx.parent.relative_to(HERE))],
                extra_compile_args=["-O2"],
            )
        )
    return extensions


setup(
    ext_modules=cythonize(
        compiled_units(),
        language_level=3,
        include_path=[str(PXD_MIRROR)],
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)

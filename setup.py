"""Build the compiled core: every csrc/<unit>/<unit>.pyx becomes pykube_plane._<unit>.

No generated C is shipped; cythonize() runs here at build time.
"""
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
CSRC = HERE / "csrc"


def compiled_units() -> list[Extension]:
    extensions = []
    for pyx in sorted(CSRC.glob("*/*.pyx")):
        unit = pyx.parent.name
        if pyx.stem != unit:
            continue  # helpers included by the unit's own .pyx
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
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)

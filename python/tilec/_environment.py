"""Where the Python environment keeps native pieces tilec can use: NVRTC from the
nvidia-cuda-nvrtc wheel (`pip install tilec[cuda]`) or from PyTorch's lib folder. Nothing here
imports torch or loads a library; jit.py hands the folders to the C++ NVRTC loader."""
import importlib.util
import os

_NVRTC_NAMES = ("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so")


def _package_dirs(name):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    return list(spec.submodule_search_locations or [])


def nvrtc_search_paths():
    """Folders searched for libnvrtc.so.13/.12/.so (and library files), in order: the
    nvidia-cuda-nvrtc wheel (CUDA 13 keeps it in nvidia/cu13/lib, CUDA 12 in nvidia/cuda_nvrtc/lib),
    then torch/lib (torch wheels that bundle NVRTC name it libnvrtc-<hash>.so.<major>). The C++
    loader tries them after $TILEC_NVRTC_PATH and before the loader path, $CUDA_HOME and
    /usr/local/cuda."""
    paths = []
    for base in _package_dirs("nvidia"):
        paths += [os.path.join(base, "cu13", "lib"), os.path.join(base, "cuda_nvrtc", "lib")]
    for base in _package_dirs("torch"):
        lib = os.path.join(base, "lib")
        paths.append(lib)
        # os.listdir, not glob: this runs at `import tilec`, and glob's import costs as much as the scan.
        try:
            names = sorted(os.listdir(lib))
        except OSError:
            names = []
        paths += [os.path.join(lib, n) for n in names if n.startswith("libnvrtc-") and ".so." in n and "builtins" not in n]
    return [p for p in paths if os.path.exists(p)]


def nvrtc_library_in_environment():
    """The first libnvrtc file that nvrtc_search_paths() leads to, or None (for the native CLI,
    which gets it as TILEC_NVRTC_PATH)."""
    for p in nvrtc_search_paths():
        if os.path.isfile(p):
            return p
        for name in _NVRTC_NAMES:
            if os.path.exists(os.path.join(p, name)):
                return os.path.join(p, name)
    return None

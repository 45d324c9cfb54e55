"""Worker processes that never run the caller's main script.

multiprocessing's spawn start method sends `sys.modules["__main__"]`'s file to every child, which
runs it as `__mp_main__` before doing any work. Under `streamlit run` that module is the page
script Streamlit is running (and in tests, whatever script Streamlit's AppTest ran last), so a
pool started from the app would run a page of the app in every worker, or die on its missing
arguments. genlib's worker functions live in genlib and pickle by module name: the children
need the main script for nothing. `context()` is the spawn context less that step
(`genlib.jobprocess` does the same for its fork server).

    with concurrent.futures.ProcessPoolExecutor(2, mp_context=subprocesses.context()) as pool:
        ...
"""
from __future__ import annotations

import io
import multiprocessing.context as mpc
import os
from multiprocessing import popen_spawn_posix, reduction, spawn, util


class _Popen(popen_spawn_posix.Popen):
    """multiprocessing.popen_spawn_posix.Popen (3.11–3.13) without the main script's path."""

    def _launch(self, process_obj):
        from multiprocessing import resource_tracker

        tracker_fd = resource_tracker.getfd()
        self._fds.append(tracker_fd)
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        fp = io.BytesIO()
        mpc.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, fp)
            reduction.dump(process_obj, fp)
        finally:
            mpc.set_spawning_popen(None)
        parent_r = child_w = child_r = parent_w = None
        try:
            parent_r, child_w = os.pipe()
            child_r, parent_w = os.pipe()
            cmd = spawn.get_command_line(tracker_fd=tracker_fd, pipe_handle=child_r)
            self._fds.extend([child_r, child_w])
            self.pid = util.spawnv_passfds(spawn.get_executable(), cmd, self._fds)
            self.sentinel = parent_r
            with open(parent_w, "wb", closefd=False) as f:
                f.write(fp.getbuffer())
        finally:
            self.finalizer = util.Finalize(self, util.close_fds,
                                           [fd for fd in (parent_r, parent_w) if fd is not None])
            for fd in (child_r, child_w):
                if fd is not None:
                    os.close(fd)


class _Process(mpc.SpawnProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class _Context(mpc.SpawnContext):
    Process = _Process


def context() -> mpc.BaseContext:
    """A spawn context whose children do not run the caller's main script (POSIX; elsewhere
    the plain spawn context).

        >>> context().get_start_method()
        'spawn'
    """
    return _Context() if os.name == "posix" else mpc.SpawnContext()

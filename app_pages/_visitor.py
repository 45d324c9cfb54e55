"""Who this browser is, and what a shared server (GENLIB_HOSTED=1) changes for it: a signed
cookie instead of an id in the address, a workspace of its own, the gallery, the server's rules.
Pages reach these through `app_pages._shared`."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import streamlit as st

from genlib import gallery, workspace
from genlib.jobs import REGISTRY
from genlib.settings import hosted_mode

_SID = re.compile(r"^[0-9a-f]{32}$")


# ---- who is this --------------------------------------------------------------------------
COOKIE = "genlib_visitor"


def owner() -> str:
    """This browser's id. On a hosted server (GENLIB_HOSTED=1) the server issues it, signed, in a
    cookie: a copied address carries nothing, and an id the browser made up is never accepted. On
    a person's own machine it is mirrored in the address (?sid=…) so a refresh keeps it."""
    sid = st.session_state.get("owner")
    if sid is None and hosted_mode():
        secret = _secret()
        sid = workspace.visitor_from_token(st.context.cookies.get(COOKIE, ""), secret)
        if sid is None:
            sid, token = workspace.issue_token(secret)
            st.session_state["new_cookie"] = token           # sent by set_cookie() after the page
    elif sid is None:
        from_url = st.query_params.get("sid", "")
        sid = from_url if _SID.match(from_url) else uuid.uuid4().hex
    st.session_state["owner"] = sid
    if hosted_mode():
        if "sid" in st.query_params:
            del st.query_params["sid"]
    elif st.query_params.get("sid") != sid:                  # page changes drop it: put it back
        st.query_params["sid"] = sid
    return sid


def seen() -> None:
    """This browser's page is open: its jobs are being watched (abandoned ones stop)."""
    REGISTRY.touch(owner())


def set_cookie() -> None:
    """Send a newly issued visitor token to the browser (once, in an invisible element)."""
    token = st.session_state.pop("new_cookie", None)
    if token is None:
        return
    age = int(workspace.retention_hours() * 3600)
    st.html(f"<script>document.cookie = '{COOKIE}={token}; Path=/; Max-Age={age}; SameSite=Strict'"
            f" + (location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True)


@st.cache_resource(show_spinner=False)
def _secret() -> bytes:
    return workspace.server_secret(workspace.data_root())


@st.cache_resource(show_spinner=False)
def _hosting() -> bool:
    """Once per server: start the cleaner of expired workspaces and load the host's gallery."""
    root = workspace.data_root()
    workspace.start_cleaner(root, every_seconds=600, max_age_hours=workspace.retention_hours())
    bundles = os.environ.get("GENLIB_GALLERY")
    if bundles:
        gallery.preload_gallery(Path(bundles), gallery_root())
    return True


def my_runs_root() -> Path | None:
    """Where this visitor's runs live: their own workspace when hosted, else the runs folder."""
    if not hosted_mode():
        return None
    _hosting()
    ws = my_workspace()
    ws.touch()
    return ws.runs_dir


def my_workspace() -> workspace.Workspace:
    """This browser's own folder (hosted or not): its runs when hosted, its kept uploads and
    what it loaded last."""
    return workspace.Workspace(workspace.data_root(), owner())


def hosted_rules() -> str:
    """The shared server's rules in one sentence (empty on one's own machine)."""
    if not hosted_mode():
        return ""
    lim = REGISTRY.limits
    parts = ["This app is shared with other visitors: each setting stops at a lower limit"]
    if lim.max_seconds:
        parts.append(f"one training runs for at most {lim.max_seconds / 60:.0f} minutes (then it "
                     "stops and saves, ready to resume)")
    if lim.max_running:
        parts.append(f"{lim.max_running} training{'s' if lim.max_running > 1 else ''} run at a time "
                     "and the others wait their turn")
    if lim.abandon_after:
        parts.append(f"a training stops when its page has been closed for {lim.abandon_after / 60:.0f} minutes")
    return "; ".join(parts) + "."


def gallery_root() -> Path:
    return workspace.data_root() / "gallery"


def is_mine(path: str | Path) -> bool:
    """True for a run folder this visitor may resume, download or delete."""
    root = my_runs_root()
    if root is None:
        return not str(Path(path).resolve()).startswith(str(gallery_root().resolve()))
    return Path(path).resolve().parent == root.resolve()


def gallery_entry(path: str | Path):
    """The gallery entry at `path` (title, publisher, whether its weights may be downloaded), or None."""
    for entry in gallery.list_gallery(gallery_root()):
        if Path(entry.dir) == Path(path):
            return entry
    return None


def shown_path(path: str | Path) -> str:
    """A run's folder as shown to people: the full path on one's own machine, the name when hosted."""
    return Path(path).name if hosted_mode() else str(path)

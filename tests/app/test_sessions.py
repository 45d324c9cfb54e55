"""Two browser sessions never see each other's data or jobs; a refresh finds its job again."""
from streamlit.testing.v1 import AppTest

from apphelpers import APP, TIMEOUT, goto, job_of, no_exceptions, poll, texts


def test_sessions_are_isolated_and_a_refresh_finds_the_job(app):
    app.button(key="start-digits").click().run()               # session A trains
    job = job_of(app, "train")
    sid = app.session_state["owner"]

    other = AppTest.from_file(APP, default_timeout=TIMEOUT).run()     # session B
    assert other.session_state["owner"] != sid
    assert job_of(other) is None
    assert "No data loaded yet." in texts(other)
    goto(other, "train")
    assert "Load images first" in texts(other)

    refreshed = AppTest.from_file(APP, default_timeout=TIMEOUT)       # A's browser refreshed:
    refreshed.query_params["sid"] = sid                               # same URL, new session
    refreshed.run()
    assert refreshed.session_state["owner"] == sid
    goto(refreshed, "train")
    no_exceptions(refreshed)
    assert "GAN on digits (quick)" in texts(refreshed)
    refreshed.button(key="stop").click().run()
    assert job.wait(60).status == "stopped"
    poll(refreshed, lambda at: "Stopped at step" in texts(at))


def test_a_made_up_id_in_the_url_is_replaced():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["sid"] = "../../etc/passwd"
    at.run()
    assert at.session_state["owner"] != "../../etc/passwd" and len(at.session_state["owner"]) == 32

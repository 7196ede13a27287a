"""`/`, the URL `flask run` prints: the admin for an admin, its login page for anyone else."""


def test_root_sends_a_visitor_to_the_login_page(anon):
    response = anon.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = anon.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert page.request.path == "/login"
    assert 'type="password"' in page.get_data(as_text=True)


def test_root_sends_an_admin_to_the_dashboard(admin):
    page = admin.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert page.request.path == "/admin/"
    assert "up to date" in page.get_data(as_text=True)

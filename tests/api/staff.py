"""A logged-in staff member for API tests (use app_config {"PASSWORD_HASH_FAST": True})."""
from server.accounts import service as accounts

PASSWORD = "a long staff passphrase"
STAFF = "/api/v1/staff"


class StaffClient:
    """A logged-in staff member's browser: the session cookie, and the CSRF header on
    every request that changes something."""

    def __init__(self, app, username, role):
        self.staff = accounts.create_staff(username, PASSWORD, role)
        self.client = app.test_client()
        response = self.client.post(f"{STAFF}/login",
                                    json={"username": username, "password": PASSWORD})
        assert response.status_code == 200
        self.csrf = {"X-CSRF-Token": response.get_json()["csrf_token"]}

    def get(self, path, **kwargs):
        return self.client.get(STAFF + path, **kwargs)

    def post(self, path, json=None, csrf=True):
        return self.client.post(STAFF + path, json=json, headers=self.csrf if csrf else {})

    def patch(self, path, json=None, csrf=True):
        return self.client.patch(STAFF + path, json=json, headers=self.csrf if csrf else {})

    def delete(self, path, csrf=True):
        return self.client.delete(STAFF + path, headers=self.csrf if csrf else {})

"""The static front end: the app shell, the manifest and the service worker."""
from flask import Blueprint

bp = Blueprint("web", __name__)

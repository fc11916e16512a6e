"""python -m bot.web: the web app on WEB_PORT (default 8000)."""

import os

from bot.web.app import create_app
from bot.web.origins import web_port

if __name__ == "__main__":
    create_app().run(host=os.environ.get("WEB_HOST", "0.0.0.0"), port=web_port(), access_log=False, motd=False)

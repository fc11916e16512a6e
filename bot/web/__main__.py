"""python -m bot.web: the web app on WEB_PORT (default 8000)."""

import os


def main() -> None:
    from bot.known_warnings import quiet_known_warnings

    quiet_known_warnings()
    from bot.web.app import create_app
    from bot.web.origins import web_port

    create_app().run(host=os.environ.get("WEB_HOST", "0.0.0.0"), port=web_port(), access_log=False, motd=False)


if __name__ == "__main__":
    main()

"""The web app (Sanic, WEB_PORT): the founders' landing page with the coach, the
one-tag loader /widget.js and its static assets. Importing this package stays
light: the Procfile imports the origins, the webchat channel reads them too."""

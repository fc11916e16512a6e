"""The founders' web widget: the web app that serves it (app.py) and the Rasa
channel it talks to (channel.py). Importing this package stays light: the Rasa
server imports the channel, the Procfile imports the origins."""

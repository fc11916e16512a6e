"""Rasa plug-ins: the only code besides actions/ that imports Rasa.

- nlu/: components of the NLU pipeline that config.yml names;
- rasa_server.py: the Rasa server's command line as `make run` starts it;
- patches/: the project's patches of Rasa's private members, checked and installed
  at start-up (registry.py), one module per concern;
- tracker_store.py: the SQL tracker store that can forget a founder (endpoints.yml);
- founder_data.py: "delete my data" and "export my data", actions of the Rasa server;
- lock_store.py: the atomic Redis lock store (several Rasa servers);
- action_server.py: the action server, closed to all but the Rasa server;
- channels/: input channels that credentials.yml names (the web widget's socket.io,
  REST with message ids, Slack).
"""

"""`jiceng demo`: the real bot, a local Bot API stand-in and a demo directory on this machine,
chatted with from the terminal as a farmer, a team leader, staff or an expert. No token, no internet.

`directory` loads the made-up teams and experts and names the personas; `terminal` is the chat
loop; `render` turns what the bot did into lines; `texts` holds every sentence the demo says;
`runner` starts and stops everything.
"""

"""Shared test helpers: the fixed clock, a chat partner, an inbox for notices, factories
for the database-backed tests, and in-memory fake services for fast dialog tests.

Test files import from here, never from each other:

- `tests.support.clock`: `BERLIN`, `NOW` (the moment every test starts at), `START`
- `tests.support.chat`: `ChatUser`, who talks to a `Runner` as a channel would
- `tests.support.inbox`: `Inbox`, a channel that records notices; `dispatcher`
- `tests.support.factories`: `START`, `add_event`, `open_event` (on a real database)
- `tests.support.fakes`: `fake_world()`, a `Runner` over in-memory fake services
"""

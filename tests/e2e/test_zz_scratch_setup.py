# SCRATCH (not committed): times the setup of the announcement test
import asyncio, time
from pathlib import Path
import pytest
from tests.e2e.synapse import DEFAULT_MESSAGE_RATE, Synapse
from tests.e2e.test_matrix import MatrixBot, Member


class Quiet(Member):
    async def start(self) -> None:
        await super().start()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = asyncio.create_task(self.client.sync_forever(timeout=30000))


@pytest.mark.parametrize("enc,cls", [(0, Member), (2, Member), (0, Quiet), (2, Quiet)])
async def test_setup(tmp_path: Path, enc: int, cls) -> None:
    t0 = time.monotonic()
    server = Synapse(tmp_path / "synapse", message_rate=DEFAULT_MESSAGE_RATE)
    server.start()
    t1 = time.monotonic()
    bot = MatrixBot(server, tmp_path / "bot")
    server.lift_rate_limits(bot.user_id)
    bot.settings = bot.settings.model_copy(update={"matrix_rate_limit": 0})
    everyone = [cls(server, tmp_path / f"m{i}") for i in range(21)]
    try:
        await bot.start()
        t2 = time.monotonic()
        await asyncio.gather(*(p.start() for p in everyone))
        t3 = time.monotonic()
        await asyncio.gather(*(p.reply(p.open_direct_chat(bot.user_id, encrypted=bool(enc) and i % enc == 0)) for i, p in enumerate(everyone)))
        t4 = time.monotonic()
        print(f"\n{enc=} {cls.__name__}: synapse {t1-t0:.1f} bot {t2-t1:.1f} members {t3-t2:.1f} greetings {t4-t3:.1f}")
    finally:
        await asyncio.gather(*(p.stop() for p in everyone))
        await bot.stop()
        server.stop()

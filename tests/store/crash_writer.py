"""Write to a SQLiteStore until killed, printing each acknowledged write.

Run as `python tests/store/crash_writer.py PATH WRITERS`: WRITERS concurrent
tasks create keys /crash/<writer>/<n>; after each acknowledgement one line
"<key> <revision>" goes to stdout, flushed. test_sqlite_store kills this
process with SIGKILL mid-stream and checks that every printed write is there.
"""
import asyncio
import sys

from controlplane.store.sqlite import SQLiteStore


async def main(path: str, writers: int) -> None:
    store = await SQLiteStore.open(path)

    async def write(w: int) -> None:
        n = 0
        while True:
            key = f"/crash/{w}/{n}"
            result = await store.put(key, key.encode(), expect_mod_revision=0)
            assert result.succeeded
            sys.stdout.write(f"{key} {result.revision}\n")
            sys.stdout.flush()
            n += 1

    await asyncio.gather(*(write(w) for w in range(writers)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))

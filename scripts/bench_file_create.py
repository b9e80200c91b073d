"""What one outbox mail file costs on the file system of a directory: 2,000 files of
2.5 KB each created, written and renamed into place (as OutboxMailer writes a mail),
timed, then removed. Usage: bench_file_create.py DIR"""

import os
import sys
import tempfile
import time

FILES = 2000


def main(parent: str) -> None:
    folder = tempfile.mkdtemp(dir=parent, prefix="file-create-")
    body = b"x" * 2500
    started = time.perf_counter()
    for n in range(FILES):
        partial = os.path.join(folder, f".{n}.tmp")
        with open(partial, "wb") as file:
            file.write(body)
        os.rename(partial, os.path.join(folder, f"{n}.eml"))
    elapsed = time.perf_counter() - started
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
    print(f"  a mail file there (create, write 2.5 KB, rename): {elapsed / FILES * 1e6:.0f} µs")


if __name__ == "__main__":
    main(sys.argv[1])

# Front door. The real build is CMake; these targets are the README's commands.
#   make run               install what is missing, build, migrate, serve (SQLite, offline)
#   make test              the whole suite on SQLite and PostgreSQL
#   make test SANITIZE=1   the same under ASan + UBSan
#   make fuzz              the libFuzzer targets in build-fuzz/ (clang; docs/fuzzing.md)
SANITIZE ?= 0
export SANITIZE

.PHONY: all deps build run test fuzz format clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DPSTUDIO_BENCH=OFF >/dev/null
	@cmake --build build -j$$(nproc)

run: build
	./build/pstudio migrate
	exec ./build/pstudio serve

test:
	@scripts/test.sh

fuzz:
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
		-DPSTUDIO_BENCH=OFF -DPSTUDIO_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$$(nproc)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

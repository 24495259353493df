# The two commands a newcomer needs (see README.md):
#   make run    installs what is missing, builds, and runs tmirror's main job
#   make test   installs what is missing, builds with ASan+UBSan, runs every test, fuzzes briefly
JOBS ?= $(shell nproc)
RELEASE := build/release
ASAN := build/asan
OUT := out

.PHONY: setup build run test unit bench bench-agent lab-down fuzz format-check clean

setup:
	bash scripts/install-deps.sh

build: setup
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release -DTMIRROR_BUILD_TESTS=OFF >/dev/null
	cmake --build $(RELEASE) -j$(JOBS) --target tmirror

# Today's main job: mirror the sample capture through the sample sessions, exactly as the
# agent would, and show what reached the "target" as tshark decodes it.
run: build
	@mkdir -p $(OUT)
	$(RELEASE)/tmirror mirror-pcap --input examples/sample.pcapng \
	  --config examples/web-not-ssh.json --output $(OUT)/mirrored.pcap
	@echo "--- $(OUT)/mirrored.pcap as tshark decodes it (outer VXLAN, inner frame):"
	@tshark -r $(OUT)/mirrored.pcap -o 'gui.column.format:"No.","%m","VNI","%Cus:vxlan.vni","Source","%s","Destination","%d","Info","%i"' 2>/dev/null

# Configure every time (cheap): test folders found by EXISTS need a fresh configure.
test: setup
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Asan -DTMIRROR_BUILD_BENCH=OFF -UTMIRROR_TEST_COMPONENTS >/dev/null
	cmake --build $(ASAN) -j$(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j$(JOBS)
	FUZZ_SECONDS=$${FUZZ_SECONDS:-20} bash fuzz/run.sh

bench: setup
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DTMIRROR_BUILD_TESTS=OFF
	cmake --build build/bench -j$(JOBS) --target pipeline_benchmark tmirror vxlan_sender
	build/bench/bench/pipeline_benchmark --benchmark_min_time=0.5
	python3 bench/api_benchmark.py --tmirror build/bench/tmirror
	python3 bench/collector_benchmark.py --tmirror build/bench/tmirror --sender build/bench/bench/vxlan_sender

# The live mirror benchmark on the namespace lab (root only): tmirror agent vs tc mirred ->
# vxlan vs tcpdump, 64 and 1500-byte frames, 10 rules (bench/agent_benchmark.py, a few minutes).
bench-agent: setup
	@if [ "$$(id -u)" -ne 0 ]; then echo "bench-agent needs root (network namespaces)"; exit 1; fi
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DTMIRROR_BUILD_TESTS=OFF
	cmake --build build/bench -j$(JOBS) --target traffic_generator tmirror
	/usr/bin/python3 bench/agent_benchmark.py --tmirror build/bench/tmirror \
	  --generator build/bench/bench/traffic_generator

# Removes the namespaces and /etc/netns entries of crashed lab runs (tools/lab/lab.py).
lab-down:
	/usr/bin/python3 tools/lab/lab.py down

fuzz: setup
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} bash fuzz/run.sh

format-check:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'fuzz/*.cc')

clean:
	rm -rf build $(OUT)

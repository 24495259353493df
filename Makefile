# The two commands a newcomer needs (see README.md) are ./run.sh and ./test.sh: they install
# make itself, then run these targets.
#   make run    installs what building and running need, builds, runs tmirror up
#   make test   installs what testing needs too, builds with ASan+UBSan, runs every test, fuzzes
JOBS ?= $(shell nproc)
RELEASE := build/release
ASAN := build/asan
OUT := out

.PHONY: setup setup-offline setup-package setup-test setup-bench build run demo offline package test unit bench bench-agent bench-latency lab-down fuzz format-check clean

# What each use needs, and no more: running needs no test tooling (scripts/install-deps.sh).
setup:
	bash scripts/install-deps.sh run
setup-offline:
	bash scripts/install-deps.sh offline
setup-package:
	bash scripts/install-deps.sh package
setup-test:
	bash scripts/install-deps.sh test
setup-bench:
	bash scripts/install-deps.sh bench

build: setup
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release -DTMIRROR_BUILD_TESTS=OFF -DTMIRROR_BUILD_BENCH=OFF >/dev/null
	cmake --build $(RELEASE) -j$(JOBS) --target tmirror

# The main job: server (SQLite in tmirror-data/), this host's agent and a local collector,
# with the console; prints the console URL and the access key. Ctrl-C stops it.
run: build
	$(RELEASE)/tmirror up --data-dir tmirror-data

# The same with a namespace lab: web traffic mirrored to a collector, charts moving (root).
demo: build
	$(RELEASE)/tmirror up --data-dir tmirror-demo --demo

# The Debian package (cmake/packaging.cmake): build/release/package/tmirror_<version>_amd64.deb,
# then `apt-get install ./build/release/package/tmirror_*.deb` and the units in /lib/systemd/system.
package: setup-package build
	cmake --build $(RELEASE) -j$(JOBS) --target package_docs
	cd $(RELEASE) && cpack -G DEB -B package
	@ls -1 $(RELEASE)/package/*.deb

# The offline mirror: the sample capture through the sample sessions, as tshark decodes it.
offline: setup-offline build
	@mkdir -p $(OUT)
	$(RELEASE)/tmirror mirror-pcap --input examples/sample.pcapng \
	  --config examples/web-not-ssh.json --output $(OUT)/mirrored.pcap
	@echo "--- $(OUT)/mirrored.pcap as tshark decodes it (outer VXLAN, inner frame):"
	@tshark -r $(OUT)/mirrored.pcap -o 'gui.column.format:"No.","%m","VNI","%Cus:vxlan.vni","Source","%s","Destination","%d","Info","%i"' 2>/dev/null

# Configure every time (cheap): test folders found by EXISTS need a fresh configure.
test: setup-test
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Asan -DTMIRROR_BUILD_BENCH=OFF -UTMIRROR_TEST_COMPONENTS >/dev/null
	cmake --build $(ASAN) -j$(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j$(JOBS)
	FUZZ_SECONDS=$${FUZZ_SECONDS:-20} bash fuzz/run.sh

bench: setup-bench
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DTMIRROR_BUILD_TESTS=OFF
	cmake --build build/bench -j$(JOBS) --target pipeline_benchmark tmirror vxlan_sender agent_swarm \
	  metric_history_benchmark cloudwatch_api_store member_choice_benchmark
	build/bench/bench/pipeline_benchmark --benchmark_min_time=0.5
	build/bench/bench/member_choice_benchmark
	python3 bench/metric_history_benchmark.py --bench build/bench/bench/metric_history_benchmark
	python3 bench/cloudwatch_api_benchmark.py --tmirror build/bench/tmirror \
	  --store-tool build/bench/bench/cloudwatch_api_store
	python3 bench/api_benchmark.py --tmirror build/bench/tmirror
	python3 bench/store_benchmark.py --tmirror build/bench/tmirror
	python3 bench/collector_benchmark.py --tmirror build/bench/tmirror --sender build/bench/bench/vxlan_sender
	python3 bench/collector_memory_benchmark.py --tmirror build/bench/tmirror --sender build/bench/bench/vxlan_sender
	python3 bench/agent_swarm.py --tmirror build/bench/tmirror --swarm build/bench/bench/agent_swarm
	python3 bench/agent_swarm.py --tmirror build/bench/tmirror --swarm build/bench/bench/agent_swarm \
	  --replicas 2 --agents 4000 --idle-seconds 30

# The live mirror benchmark on the namespace lab (root only): tmirror agent vs tc mirred ->
# vxlan vs tcpdump, 64 and 1500-byte frames, 10 rules (bench/agent_benchmark.py, a few minutes).
bench-agent: setup-bench
	@if [ "$$(id -u)" -ne 0 ]; then echo "bench-agent needs root (network namespaces)"; exit 1; fi
	cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DTMIRROR_BUILD_TESTS=OFF
	cmake --build build/bench -j$(JOBS) --target traffic_generator tmirror
	/usr/bin/python3 bench/agent_benchmark.py --tmirror build/bench/tmirror \
	  --generator build/bench/bench/traffic_generator

# Removes the namespaces and /etc/netns entries of crashed lab runs (tools/lab/lab.py).
# Production latency with the agent at its rate cap vs without it vs tcpdump (root).
bench-latency: setup-bench build
	cd tests/integration/agent && TMIRROR_MEASURE_LATENCY=1 TMIRROR_BINARY=$(CURDIR)/$(RELEASE)/tmirror \
	  /usr/bin/python3 -m unittest -v test_agent_e2e.OverloadTest

lab-down:
	/usr/bin/python3 tools/lab/lab.py down

fuzz: setup-test
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} bash fuzz/run.sh

format-check:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'fuzz/*.cc')

clean:
	rm -rf build $(OUT)

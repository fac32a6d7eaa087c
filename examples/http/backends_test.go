package main

// testBackends lists the backends the end-to-end story runs on.
func testBackends() []backend {
	return []backend{memoryBackend}
}

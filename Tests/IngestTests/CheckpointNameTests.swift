import Ingest
import Testing

@Suite struct CheckpointNameTests {
    @Test func readsTheStep() {
        #expect(CheckpointName("checkpoint-80") == .checkpoint(step: 80))
        #expect(CheckpointName("checkpoint-0") == .checkpoint(step: 0))
        #expect(CheckpointName("checkpoint-9223372036854775807") == .checkpoint(step: Int64.max))
    }

    @Test func ignoresStagingAndOtherFolders() {
        #expect(CheckpointName("tmp-checkpoint-90") == .other)
        #expect(CheckpointName("runs") == .other)
        #expect(CheckpointName("adapter_model.safetensors") == .other)
    }

    @Test(arguments: ["checkpoint-abc", "checkpoint-", "checkpoint-12a", "checkpoint--3", "checkpoint-١٢",
                      "checkpoint-010", "checkpoint-9223372036854775808"])
    func flagsMalformedNames(_ name: String) {
        guard case .malformed = CheckpointName(name) else { Issue.record("\(name) not malformed"); return }
    }
}

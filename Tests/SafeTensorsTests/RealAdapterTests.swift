import MWADTestKit
import SafeTensors
import Testing

/// The reader against adapters a real HF Trainer + PEFT run wrote.
@Suite struct RealAdapterTests {
    @Test func readsAnF32Adapter() throws {
        let file = try SafeTensorsFile(path: Fixtures.adapter(Fixtures.f32Run, 80))
        #expect(file.tensors.count == 28)  // 2 layers × 7 projections × (A, B)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.allSatisfy { $0.dtype == .f32 })
        let a = try #require(file.tensor(named: "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"))
        #expect(a.shape == [8, 128])
        #expect(a.dataOffsets == 0..<4096)
        #expect(file.bytes(of: a).count == 4096)
    }

    @Test func readsABF16Adapter() throws {
        let file = try SafeTensorsFile(path: Fixtures.adapter(Fixtures.bf16Run, 60))
        #expect(file.tensors.count == 28)
        #expect(file.tensors.allSatisfy { $0.dtype == .bf16 })
    }
}

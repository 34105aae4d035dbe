import SafeTensors
import Testing

@Suite struct BFloat16Tests {
    @Test func widensExactly() {
        #expect(BFloat16.float(fromBits: 0x3F80) == 1.0)
        #expect(BFloat16.float(fromBits: 0xC000) == -2.0)
    }

    @Test func roundsToNearestTiesToEven() {
        // 1 + 2^-8 is halfway between 1 (0x3F80, even) and 1 + 2^-7 (0x3F81): to even.
        #expect(BFloat16.bits(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        // Halfway above an odd pattern rounds up to the even one.
        #expect(BFloat16.bits(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        // Just above halfway rounds up; just below rounds down.
        #expect(BFloat16.bits(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(BFloat16.bits(from: Float(bitPattern: 0x3F80_7FFF)) == 0x3F80)
    }

    @Test func keepsSpecialValues() {
        #expect(BFloat16.bits(from: .infinity) == 0x7F80)
        #expect(BFloat16.bits(from: -0.0) == 0x8000)
        #expect(BFloat16.float(fromBits: BFloat16.bits(from: .nan)).isNaN)
        // The largest float rounds to infinity, as in PyTorch.
        #expect(BFloat16.bits(from: .greatestFiniteMagnitude) == 0x7F80)
    }
}

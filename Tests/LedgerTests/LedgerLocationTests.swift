import HostFileSystem
import Ledger
import Testing

@Suite struct LedgerLocationTests {
    @Test func underSystemdTheUnitsStateDirectory() {
        let env = ["STATE_DIRECTORY": "/var/lib/mwad/llama:/var/lib/other", "HOME": "/home/u"]
        #expect(LedgerLocation.ledger(watch: "/data/run", environment: env) == "/var/lib/mwad/llama/ledger.sqlite")
    }

    @Test func otherwiseXDGStateHome() {
        let env = ["XDG_STATE_HOME": "/home/u/.state", "HOME": "/home/u"]
        #expect(LedgerLocation.ledger(watch: "/data/runs/llama 3/", environment: env)
                == "/home/u/.state/mwad/data-runs-llama-3/ledger.sqlite")
    }

    @Test func fallingBackToDotLocalState() {
        #expect(LedgerLocation.ledger(watch: "/scratch/job_17/out", environment: ["HOME": "/home/u"])
                == "/home/u/.local/state/mwad/scratch-job_17-out/ledger.sqlite")
    }

    @Test func runNames() {
        #expect(LedgerLocation.runName("/") == "root")
        #expect(LedgerLocation.runName("/data//ünïcode run/v1.2") == "data-n-code-run-v1.2")
    }

    @Test func classifiesNetworkFileSystemsByMagic() {
        #expect(FileSystemKind.kind(magic: 0x6969) == .network("nfs"))
        #expect(FileSystemKind.kind(magic: 0x0BD0_0BD0) == .network("lustre"))
        #expect(FileSystemKind.kind(magic: 0xFF53_4D42) == .network("cifs"))
        #expect(FileSystemKind.kind(magic: 0x6573_5546) == .fuse)
        #expect(FileSystemKind.kind(magic: 0xEF53) == .local)  // ext4
        #expect(FileSystemKind.kind(magic: 0x0102_1994) == .local)  // tmpfs
    }

    @Test func judgesAPathNotCreatedYetByItsNearestAncestor() {
        #expect(FileSystemKind.of("/tmp/does/not/exist/yet/ledger.sqlite") == FileSystemKind.of("/tmp"))
        #expect(FileSystemKind.of("/tmp").isLocal)
    }
}

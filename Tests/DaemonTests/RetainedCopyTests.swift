import Dispatch
import Foundation
import Ingest
import MWADTestKit
import SafeTensors
import Synchronization
import Testing

@testable import Daemon

/// The copy of a trainer's files into the state directory while they change under it:
/// the copy is whole or refused with the reason, never a mix, and never blocks.
@Suite struct RetainedCopyTests {
    let dir = TemporaryDirectory()
    var store: RetainedStore { RetainedStore(stateDirectory: dir.file("state")) }

    /// A checkpoint folder whose adapter is `megabytes` of `byte`.
    func folder(_ name: String, megabytes: Int = 16, byte: UInt8 = 1) -> String {
        dir.write("\(name)/adapter_model.safetensors", [UInt8](repeating: byte, count: megabytes << 20))
        dir.write("\(name)/trainer_state.json", "{}")
        return dir.file(name)
    }

    func stage(_ folder: String) throws -> RetainedStore.Staged {
        try store.stage(from: folder, layout: HuggingFaceLayout(), required: ["adapter_model.safetensors", "trainer_state.json"])
    }

    /// What `save_total_limit` does to a folder the daemon is copying.
    @Test func aFileDeletedOnceOpenIsStillCopiedWhole() throws {
        let source = folder("checkpoint-10")
        let expected = try FileDigest.sha256(ofFile: "\(source)/adapter_model.safetensors")
        let file = try SourceFile(path: "\(source)/adapter_model.safetensors")
        try FileManager.default.removeItem(atPath: source)
        #expect(try RetainedStore.copy(file, to: dir.file("copy")) == expected)
        #expect(try FileDigest.sha256(ofFile: dir.file("copy")) == expected)
    }

    /// One read of the trainer's file: the copy's digest and the scan of its values
    /// come from the bytes copied (a real adapter, then one with a NaN).
    @Test func theCopyIsHashedAndItsValuesCheckedInTheSamePass() throws {
        let source = dir.file("checkpoint-80")
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint(Fixtures.f32Run, 80), toPath: source)
        let adapter = "\(source)/adapter_model.safetensors"
        let good = try stage(source)
        #expect(good.adapterScan == .allFinite)
        #expect(good.adapterSHA256 == (try FileDigest.sha256(ofFile: Fixtures.adapter(Fixtures.f32Run, 80))))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: adapter))
        bytes.replaceSubrange((bytes.count - 4)..<bytes.count, with: [0x00, 0x00, 0xC0, 0x7F])  // NaN, last element
        try bytes.write(to: URL(fileURLWithPath: adapter))
        let bad = try stage(source)
        let last = try SafeTensorsFile(path: adapter).tensors.last!.name
        #expect(bad.adapterScan == .nonFinite(tensor: last))
        #expect(bad.adapterSHA256 == (try FileDigest.sha256(ofFile: adapter)))
    }

    @Test func aFolderDeletedBeforeItIsOpenedIsAClearError() throws {
        let source = folder("checkpoint-10", megabytes: 1)
        try FileManager.default.removeItem(atPath: source)
        #expect { try stage(source) } throws: { "\($0)" == "\(source)/adapter_model.safetensors: No such file or directory" }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: store.root)) ?? []).isEmpty, "no staging left")
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let source = folder("checkpoint-10", megabytes: 1)
        try FileManager.default.removeItem(atPath: "\(source)/trainer_state.json")
        #expect(mkfifo("\(source)/trainer_state.json", 0o644) == 0)
        #expect { try stage(source) } throws: { "\($0)" == "\(source)/trainer_state.json: is not a regular file (a FIFO)" }
    }

    /// Another process renames new versions over the adapter, again and again, while
    /// it is copied: each copy is refused, or is exactly one whole version.
    @Test func aFileReplacedWhileBeingReadIsRefused() throws {
        let source = folder("checkpoint-10")
        let path = "\(source)/adapter_model.safetensors"
        let versions = [folder("a", byte: 2), folder("b", byte: 3)].map { "\($0)/adapter_model.safetensors" }
        let whole = try Set(([path] + versions).map { try FileDigest.sha256(ofFile: $0) })
        let spare = dir.file("spare")
        let refusals = try whileChanging(copying: source) { round in
            _ = link(versions[round % 2], spare)
            _ = rename(spare, path)
        } check: { staged throws in
            #expect(whole.contains(staged.adapterSHA256), "a copy that is no whole version")
            #expect(try FileDigest.sha256(ofFile: "\(staged.folder)/adapter_model.safetensors") == staged.adapterSHA256)
        }
        #expect(refusals.contains("\(path): replaced by another file while being read"), "\(refusals)")
    }

    /// The same file rewritten in place while it is copied.
    @Test func aFileRewrittenWhileBeingReadIsRefused() throws {
        let source = folder("checkpoint-10")
        let fd = open("\(source)/adapter_model.safetensors", O_WRONLY)
        defer { close(fd) }
        let refusals = try whileChanging(copying: source) { round in
            var byte = UInt8(truncatingIfNeeded: round)
            _ = pwrite(fd, &byte, 1, off_t((round * 7919) % (16 << 20)))
        } check: { _ in }
        #expect(refusals.contains("\(source)/adapter_model.safetensors: changed while being read (size or modification time differs)"),
                "\(refusals)")
    }

    /// Runs `change` on another thread in a loop while the folder is staged 20 times;
    /// returns the distinct refusals, after `check`ing each accepted copy.
    private func whileChanging(copying source: String, _ change: @escaping @Sendable (Int) -> Void,
                               check: (RetainedStore.Staged) throws -> Void) throws -> Set<String> {
        let done = DispatchSemaphore(value: 0)
        let running = Running()
        Thread {
            var round = 0
            while !running.stopped.load(ordering: .relaxed) {
                change(round)
                round += 1
            }
            done.signal()
        }.start()
        defer {
            running.stopped.store(true, ordering: .relaxed)
            done.wait()
        }
        var refusals: Set<String> = []
        for _ in 0..<20 {
            do {
                let staged = try stage(source)
                try check(staged)
                store.discard(staged.folder)
            } catch let error as RetainError {
                refusals.insert("\(error)")
            }
        }
        return refusals
    }

    private final class Running: Sendable {
        let stopped = Atomic(false)
    }
}

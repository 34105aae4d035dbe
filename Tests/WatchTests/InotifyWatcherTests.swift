import Foundation
import MWADTestKit
import Synchronization
import Testing
import Watch

/// The watcher on a real inotify descriptor and real files.
@Suite struct InotifyWatcherTests {
    let dir = TemporaryDirectory()

    static func isCheckpoint(_ name: String) -> Bool { name.hasPrefix("checkpoint-") }

    func watcher() throws -> InotifyWatcher {
        try InotifyWatcher(directory: dir.path, isCheckpointFolder: Self.isCheckpoint, wake: {})
    }

    /// Drains until `condition` holds on everything seen, or 10 s pass.
    func collect(_ watcher: InotifyWatcher, until condition: (Set<WatchEvent>) -> Bool) -> Set<WatchEvent> {
        var seen: Set<WatchEvent> = []
        let deadline = Date().addingTimeInterval(10)
        while !condition(seen) && Date() < deadline {
            seen.formUnion(watcher.drain())
            usleep(10_000)
        }
        return seen
    }

    func mkdir(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: dir.file(name), withIntermediateDirectories: true)
    }

    @Test func foldersThatExistBeforehandAreReportedForScanning() throws {
        try mkdir("checkpoint-10")
        dir.write("checkpoint-10/trainer_state.json", "{}")
        try mkdir("runs")
        let watcher = try watcher()
        #expect(watcher.drain() == [.folderAppeared("checkpoint-10")])
        #expect(watcher.watchedFolders == ["checkpoint-10"])
    }

    @Test func seesFoldersAndFilesAsHFTrainerWritesThem() throws {
        let watcher = try watcher()
        watcher.start()
        try mkdir("checkpoint-20")
        // Files written before the folder's watch exists are found by the daemon's scan
        // of the folder, not by events: wait for the watch before writing.
        var seen = collect(watcher) { $0.contains(.folderAppeared("checkpoint-20")) }
        dir.write("checkpoint-20/adapter_model.safetensors", "x")
        dir.write("checkpoint-20/trainer_state.json", "{}")
        seen.formUnion(collect(watcher) { $0.contains(.fileWritten(folder: "checkpoint-20", file: "trainer_state.json")) })
        #expect(seen.contains(.folderAppeared("checkpoint-20")))
        #expect(seen.contains(.fileWritten(folder: "checkpoint-20", file: "adapter_model.safetensors")))
        #expect(seen.contains(.fileWritten(folder: "checkpoint-20", file: "trainer_state.json")))
        watcher.stop()
    }

    /// kohya and ai-toolkit checkpoints are files in the root: reported when closed
    /// after writing or renamed in, and when deleted; other files are not.
    @Test func checkpointFilesInTheRoot() throws {
        let watcher = try InotifyWatcher(directory: dir.path, isCheckpointFolder: { $0.hasPrefix("pixel-step") }, wake: {})
        watcher.start()
        dir.write("pixel-step00000010.safetensors", "x")
        dir.write("notes.txt", "x")
        var seen = collect(watcher) { $0.contains(.folderAppeared("pixel-step00000010.safetensors")) }
        dir.write("tmp", "x")
        #expect(rename(dir.file("tmp"), dir.file("pixel-step00000020.safetensors")) == 0)
        seen.formUnion(collect(watcher) { $0.contains(.folderAppeared("pixel-step00000020.safetensors")) })
        try FileManager.default.removeItem(atPath: dir.file("pixel-step00000010.safetensors"))
        seen.formUnion(collect(watcher) { $0.contains(.folderVanished("pixel-step00000010.safetensors")) })
        #expect(seen == [.folderAppeared("pixel-step00000010.safetensors"), .folderAppeared("pixel-step00000020.safetensors"),
                         .folderVanished("pixel-step00000010.safetensors")])
        #expect(watcher.watchedFolders.isEmpty, "a file holds nothing to watch")
    }

    @Test func aStagingFolderRenamedIntoPlace() throws {
        let watcher = try watcher()
        watcher.start()
        try mkdir("tmp-checkpoint-30")
        dir.write("tmp-checkpoint-30/trainer_state.json", "{}")
        try FileManager.default.moveItem(atPath: dir.file("tmp-checkpoint-30"), toPath: dir.file("checkpoint-30"))
        let seen = collect(watcher) { $0.contains(.folderAppeared("checkpoint-30")) }
        #expect(seen == [.folderAppeared("checkpoint-30")])  // nothing from the staging folder
        #expect(watcher.watchedFolders == ["checkpoint-30"])
    }

    @Test func rotationDeletesAFolder() throws {
        try mkdir("checkpoint-10")
        let watcher = try watcher()
        _ = watcher.drain()
        watcher.start()
        try FileManager.default.removeItem(atPath: dir.file("checkpoint-10"))
        let seen = collect(watcher) { $0.contains(.folderVanished("checkpoint-10")) }
        #expect(seen.contains(.folderVanished("checkpoint-10")))
        _ = collect(watcher) { _ in watcher.watchedFolders.isEmpty }
        #expect(watcher.watchedFolders.isEmpty)
    }

    @Test func theWatchedDirectoryDeleted() throws {
        let root = dir.file("out")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let watcher = try InotifyWatcher(directory: root, isCheckpointFolder: Self.isCheckpoint, wake: {})
        watcher.start()
        try FileManager.default.removeItem(atPath: root)
        #expect(collect(watcher) { $0.contains(.rootGone) }.contains(.rootGone))
    }

    @Test func kernelQueueOverflow() throws {
        // Events pile up in the kernel while nobody reads: more than its queue holds.
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        try mkdir("checkpoint-40")
        let watcher = try watcher()
        _ = watcher.drain()
        for index in 0...(limit + 100) {
            _ = FileManager.default.createFile(atPath: dir.file("checkpoint-40/f\(index)"), contents: nil)
        }
        watcher.start()
        #expect(collect(watcher) { $0.contains(.overflow) }.contains(.overflow))
        watcher.stop()
    }

    @Test func aBacklogTooLargeCollapsesIntoOneOverflow() throws {
        try mkdir("checkpoint-50")
        let watcher = try watcher()
        _ = watcher.drain()
        watcher.start()
        for index in 0..<12_000 {
            _ = FileManager.default.createFile(atPath: dir.file("checkpoint-50/g\(index)"), contents: nil)
        }
        let seen = collect(watcher) { $0.contains(.overflow) }
        #expect(seen.contains(.overflow))
        watcher.stop()
    }

    @Test func wakesItsConsumer() throws {
        let wakes = Atomic<Int>(0)
        let watcher = try InotifyWatcher(directory: dir.path, isCheckpointFolder: Self.isCheckpoint) {
            wakes.add(1, ordering: .relaxed)
        }
        watcher.start()
        try mkdir("checkpoint-60")
        _ = collect(watcher) { _ in wakes.load(ordering: .relaxed) > 0 }
        #expect(wakes.load(ordering: .relaxed) > 0)
    }

    @Test func aMissingDirectoryIsAClearError() {
        #expect(throws: WatchError.self) {
            _ = try InotifyWatcher(directory: dir.file("absent"), isCheckpointFolder: Self.isCheckpoint, wake: {})
        }
    }
}

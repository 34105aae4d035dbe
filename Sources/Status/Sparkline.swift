/// Unicode block drawings for a terminal.
enum Blocks {
    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let eighths: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]

    /// One character per value (values averaged into at most `width` buckets), low to
    /// high as ▁ to █.
    static func sparkline(_ values: [Double], width: Int = 60) -> String {
        let points = bucketed(values, width: width)
        guard let low = points.min(), let high = points.max() else { return "" }
        let span = high - low
        return String(points.map { value in
            span == 0 ? levels[3] : levels[min(7, Int((value - low) / span * 7.999))]
        })
    }

    /// A horizontal bar of `fraction` × `width` columns, in eighths of a column.
    static func bar(_ fraction: Double, width: Int) -> String {
        let eighthsTotal = Int((max(0, min(1, fraction)) * Double(width * 8)).rounded())
        let full = String(repeating: "█", count: eighthsTotal / 8)
        let rest = eighthsTotal % 8
        return rest == 0 ? full : full + String(eighths[rest - 1])
    }

    private static func bucketed(_ values: [Double], width: Int) -> [Double] {
        guard values.count > width else { return values }
        return (0..<width).map { bucket in
            let start = bucket * values.count / width
            let end = (bucket + 1) * values.count / width
            let slice = values[start..<end]
            return slice.reduce(0, +) / Double(slice.count)
        }
    }
}

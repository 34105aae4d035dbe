import Foundation

/// An independent float64 reference for the exact LoRA methods, written apart from
/// the code under test: dense matrices, naive products, and a one-sided Jacobi SVD.
enum LoraOracle {
    /// A row-major matrix.
    struct Matrix {
        var rows: Int
        var columns: Int
        var values: [Double]

        subscript(i: Int, j: Int) -> Double {
            get { values[i * columns + j] }
            set { values[i * columns + j] = newValue }
        }

        static func zeros(_ rows: Int, _ columns: Int) -> Matrix { Matrix(rows: rows, columns: columns, values: .init(repeating: 0, count: rows * columns)) }

        static func * (a: Matrix, b: Matrix) -> Matrix {
            var c = zeros(a.rows, b.columns)
            for i in 0..<a.rows { for k in 0..<a.columns { let x = a[i, k]; for j in 0..<b.columns { c[i, j] += x * b[k, j] } } }
            return c
        }

        static func + (a: Matrix, b: Matrix) -> Matrix { Matrix(rows: a.rows, columns: a.columns, values: zip(a.values, b.values).map(+)) }
        static func - (a: Matrix, b: Matrix) -> Matrix { Matrix(rows: a.rows, columns: a.columns, values: zip(a.values, b.values).map(-)) }
        func scaled(_ s: Double) -> Matrix { Matrix(rows: rows, columns: columns, values: values.map { $0 * s }) }
        var norm: Double { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    }

    /// Σ c_i·B_i·A_i.
    static func delta(_ members: [(b: Matrix, a: Matrix, coefficient: Double)]) -> Matrix {
        members.dropFirst().reduce((members[0].b * members[0].a).scaled(members[0].coefficient)) { sum, m in sum + (m.b * m.a).scaled(m.coefficient) }
    }

    /// The best rank-k approximation of `m` and the singular values, by one-sided
    /// Jacobi rotations on the columns of m (converges to machine precision).
    static func truncated(_ m: Matrix, rank k: Int) -> (approximation: Matrix, singular: [Double]) {
        var u = m  // columns are orthogonalised in place
        var v = Matrix.zeros(m.columns, m.columns)
        for i in 0..<m.columns { v[i, i] = 1 }
        for _ in 0..<60 {
            var rotated = false
            for p in 0..<m.columns {
                for q in (p + 1)..<max(p + 1, m.columns) {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<m.rows { alpha += u[i, p] * u[i, p]; beta += u[i, q] * u[i, q]; gamma += u[i, p] * u[i, q] }
                    guard abs(gamma) > 1e-15 * (alpha * beta).squareRoot(), gamma != 0 else { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = c * t
                    for i in 0..<m.rows { let x = u[i, p], y = u[i, q]; u[i, p] = c * x - s * y; u[i, q] = s * x + c * y }
                    for i in 0..<m.columns { let x = v[i, p], y = v[i, q]; v[i, p] = c * x - s * y; v[i, q] = s * x + c * y }
                }
            }
            if !rotated { break }
        }
        let norms = (0..<m.columns).map { j in (0..<m.rows).reduce(0) { $0 + u[$1, j] * u[$1, j] }.squareRoot() }
        let order = norms.indices.sorted { norms[$0] > norms[$1] }
        var approximation = Matrix.zeros(m.rows, m.columns)
        for j in order.prefix(k) where norms[j] > 0 {
            // u_j·σ_j·v_jᵀ with u_j = column j / σ_j: the column itself times v_jᵀ.
            for r in 0..<m.rows { for c in 0..<m.columns { approximation[r, c] += u[r, j] * v[c, j] } }
        }
        return (approximation, order.map { norms[$0] })
    }

    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Double] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Double(state % 2_000_000) / 1_000_000 - 1
        }
    }
}

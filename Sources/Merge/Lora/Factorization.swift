
/// The best rank-k approximation of ΔW = B·A (B `[out, R]`, A `[R, in]`, R small)
/// without forming ΔW: thin QR of B and of Aᵀ, SVD of the small core R_B·R_Aᵀ, all in
/// F64 with LAPACK (loaded at run time: ``LAPACK``). Eckart–Young: keeping the k largest singular values is optimal in
/// the Frobenius norm. Q is never formed: the k output columns are Q applied to the
/// small factors (`dormqr`), R/k times less work than forming Q and multiplying.
enum Factorization {
    struct Truncated {
        /// B' row-major `[out, k]` and A' row-major `[k, in]`, B'·A' the rank-k
        /// approximation, the singular values split evenly (√σ each); columns beyond
        /// the exact rank are zero.
        var b: [Double]
        var a: [Double]
        /// All singular values of B·A, largest first.
        var singularValues: [Double]
    }

    /// `b`: B column-major `[out, r]`; `a`: A row-major `[r, in]` (that is, Aᵀ
    /// column-major `[in, r]`, as LAPACK takes it with no copy); `k` ≥ 1.
    static func truncate(bColumnMajor b: [Double], aRowMajor a: [Double], out: Int, r: Int, in inputs: Int, k: Int,
                         module: String) throws(MergeError) -> Truncated {
        let lapack = try LAPACK.routines.get()
        var qb = b, qa = a
        let (rb, taub, pb) = try qr(&qb, rows: out, columns: r, module: module, lapack)      // B = Q_B·R_B, R_B [pb, r]
        let (ra, taua, pa) = try qr(&qa, rows: inputs, columns: r, module: module, lapack)   // Aᵀ = Q_A·R_A, R_A [pa, r]
        // core = R_B·R_Aᵀ  [pb, pa], column-major (tiny: pb, pa ≤ r; no BLAS needed)
        var core = [Double](repeating: 0, count: max(pb * pa, 1))
        for j in 0..<pa {
            for l in 0..<r {
                let x = ra[l * pa + j]
                guard x != 0 else { continue }
                for i in 0..<pb { core[j * pb + i] += rb[l * pb + i] * x }
            }
        }
        let m = min(pb, pa)
        var s = [Double](repeating: 0, count: max(m, 1))
        var u = [Double](repeating: 0, count: max(pb * m, 1))
        var vt = [Double](repeating: 0, count: max(m * pa, 1))
        var superb = [Double](repeating: 0, count: max(m, 1))
        if m > 0 {
            let info = lapack.dgesvd(LAPACK.columnMajor, CChar(UInt8(ascii: "S")), CChar(UInt8(ascii: "S")), Int32(pb), Int32(pa), &core,
                                      Int32(pb), &s, &u, Int32(pb), &vt, Int32(m), &superb)
            guard info == 0 else { throw .lapack(routine: "dgesvd", info: info, module: module) }
        }
        let kept = min(k, m)
        // [U_k·√Σ_k; 0] (out × k) and [V_k·√Σ_k; 0] (in × k), column-major, then Q applied.
        var left = [Double](repeating: 0, count: out * k)
        var right = [Double](repeating: 0, count: inputs * k)
        for j in 0..<kept {
            let root = s[j].squareRoot()
            for i in 0..<pb { left[j * out + i] = u[j * pb + i] * root }
            for i in 0..<pa { right[j * inputs + i] = vt[i * m + j] * root }
        }
        try applyQ(qb, taub, p: pb, rows: out, to: &left, columns: k, module: module, lapack)
        try applyQ(qa, taua, p: pa, rows: inputs, to: &right, columns: k, module: module, lapack)
        // B' row-major [out, k] is the transpose of `left`; A' row-major [k, in] is `right` as it is.
        var bOut = [Double](repeating: 0, count: out * k)
        for j in 0..<k { for i in 0..<out { bOut[i * k + j] = left[j * out + i] } }
        return Truncated(b: bOut, a: right, singularValues: Array(s.prefix(m)))
    }

    /// QR of column-major `matrix` [rows, columns] in place (reflectors below the
    /// diagonal); returns R [p, columns] column-major, τ, and p = min(rows, columns).
    static func qr(_ matrix: inout [Double], rows: Int, columns: Int, module: String, _ lapack: LAPACK.Routines) throws(MergeError) -> (r: [Double], tau: [Double], p: Int) {
        let p = min(rows, columns)
        guard p > 0 else { return ([], [], 0) }
        var tau = [Double](repeating: 0, count: p)
        let info = lapack.dgeqrf(LAPACK.columnMajor, Int32(rows), Int32(columns), &matrix, Int32(rows), &tau)
        guard info == 0 else { throw .lapack(routine: "dgeqrf", info: info, module: module) }
        var r = [Double](repeating: 0, count: p * columns)
        for j in 0..<columns { for i in 0...min(j, p - 1) { r[j * p + i] = matrix[j * rows + i] } }
        return (r, tau, p)
    }

    /// c ← Q·c for the Q of ``qr(_:rows:columns:module:)`` (c column-major [rows, columns]).
    static func applyQ(_ reflectors: [Double], _ tau: [Double], p: Int, rows: Int, to c: inout [Double], columns: Int,
                       module: String, _ lapack: LAPACK.Routines) throws(MergeError) {
        guard p > 0, columns > 0 else { return }
        let info = lapack.dormqr(LAPACK.columnMajor, CChar(UInt8(ascii: "L")), CChar(UInt8(ascii: "N")), Int32(rows), Int32(columns), Int32(p),
                                  reflectors, Int32(rows), tau, &c, Int32(rows))
        guard info == 0 else { throw .lapack(routine: "dormqr", info: info, module: module) }
    }
}

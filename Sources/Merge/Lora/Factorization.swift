import CLAPACK

/// The best rank-k approximation of ΔW = B·A (B `[out, R]`, A `[R, in]`, R small)
/// without forming ΔW: thin QR of B and of Aᵀ, SVD of the small core R_B·R_Aᵀ, all in
/// F64 with LAPACK. Eckart–Young: keeping the k largest singular values is optimal in
/// the Frobenius norm.
enum Factorization {
    struct Truncated {
        /// `[out, k]` and `[k, in]`, with B'·A' the rank-k approximation; the singular
        /// values are split evenly between them (√σ each).
        var b: [Double]
        var a: [Double]
        /// All singular values of B·A, largest first.
        var singularValues: [Double]
    }

    /// `b` row-major `[out, r]`, `a` row-major `[r, in]`; `k` ≥ 1. Columns beyond the
    /// exact rank are zero.
    static func truncate(b: [Double], a: [Double], out: Int, r: Int, in inputs: Int, k: Int, module: String) throws(MergeError) -> Truncated {
        let (qb, rb, kb) = try thinQR(b, rows: out, columns: r, module: module)  // B = Q_B·R_B, R_B [kb, r]
        let at = transpose(a, rows: r, columns: inputs)
        let (qa, ra, ka) = try thinQR(at, rows: inputs, columns: r, module: module)  // Aᵀ = Q_A·R_A, R_A [ka, r]
        // core = R_B·R_Aᵀ  [kb, ka]
        var core = [Double](repeating: 0, count: kb * ka)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(kb), Int32(ka), Int32(r), 1, rb, Int32(r), ra, Int32(r), 0, &core, Int32(ka))
        let m = min(kb, ka)
        var s = [Double](repeating: 0, count: m)
        var u = [Double](repeating: 0, count: kb * m)
        var vt = [Double](repeating: 0, count: m * ka)
        var superb = [Double](repeating: 0, count: max(m, 1))
        if m > 0 {
            let info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), CChar(UInt8(ascii: "S")), Int32(kb), Int32(ka), &core, Int32(ka),
                                      &s, &u, Int32(m), &vt, Int32(ka), &superb)
            guard info == 0 else { throw .lapack(routine: "dgesvd", info: info, module: module) }
        }
        let kept = min(k, m)
        // B' = Q_B·U_k·√Σ_k  [out, k];  A' = √Σ_k·V_kᵀ·Q_Aᵀ  [k, in]
        var left = [Double](repeating: 0, count: kb * k)
        var right = [Double](repeating: 0, count: k * ka)
        for j in 0..<kept {
            let root = s[j].squareRoot()
            for i in 0..<kb { left[i * k + j] = u[i * m + j] * root }
            for i in 0..<ka { right[j * ka + i] = vt[j * ka + i] * root }
        }
        var bOut = [Double](repeating: 0, count: out * k)
        var aOut = [Double](repeating: 0, count: k * inputs)
        if kb > 0 {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(out), Int32(k), Int32(kb), 1, qb, Int32(kb), left, Int32(k), 0, &bOut, Int32(k))
        }
        if ka > 0 {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(k), Int32(inputs), Int32(ka), 1, right, Int32(ka), qa, Int32(ka), 0, &aOut, Int32(inputs))
        }
        return Truncated(b: bOut, a: aOut, singularValues: s)
    }

    /// Thin QR of row-major `[rows, columns]`: Q `[rows, p]`, R `[p, columns]`, p = min(rows, columns).
    static func thinQR(_ matrix: [Double], rows: Int, columns: Int, module: String) throws(MergeError) -> (q: [Double], r: [Double], p: Int) {
        let p = min(rows, columns)
        guard p > 0 else { return ([], [], 0) }
        var work = matrix
        var tau = [Double](repeating: 0, count: p)
        var info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), &work, Int32(columns), &tau)
        guard info == 0 else { throw .lapack(routine: "dgeqrf", info: info, module: module) }
        var r = [Double](repeating: 0, count: p * columns)
        for i in 0..<p { for j in i..<columns { r[i * columns + j] = work[i * columns + j] } }
        // Q: the first p columns of the reflectors' product.
        var q = [Double](repeating: 0, count: rows * p)
        for i in 0..<rows { for j in 0..<p { q[i * p + j] = work[i * columns + j] } }
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(rows), Int32(p), Int32(p), &q, Int32(p), &tau)
        guard info == 0 else { throw .lapack(routine: "dorgqr", info: info, module: module) }
        return (q, r, p)
    }

    static func transpose(_ matrix: [Double], rows: Int, columns: Int) -> [Double] {
        var out = [Double](repeating: 0, count: matrix.count)
        for i in 0..<rows { for j in 0..<columns { out[j * rows + i] = matrix[i * columns + j] } }
        return out
    }
}

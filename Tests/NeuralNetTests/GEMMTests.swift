import NeuralNet
import XCTest

final class GEMMTests: XCTestCase {
    /// Runs sgemm and the scalar reference on the same inputs and returns the max relative error.
    private func compare(
        m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, beta: Float,
        threads: Int, kernel: GEMMKernel, seed: UInt64
    ) -> Float {
        let lda = (transA ? m : k) + 3  // padded leading dimensions exercise the strides
        let ldb = (transB ? k : n) + 1
        let ldc = n + 2
        let a = randomTensor([(transA ? k : m) * lda], seed: seed)
        let b = randomTensor([(transB ? n : k) * ldb], seed: seed + 1)
        let c0 = randomTensor([m * ldc], seed: seed + 2)
        var fast = c0, slow = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                fast.withUnsafeMutableBufferPointer { pc in
                    GEMM.sgemm(
                        transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta,
                        c: pc.baseAddress!, ldc: ldc, threads: threads, kernel: kernel)
                }
                slow.withUnsafeMutableBufferPointer { pc in
                    GEMM.reference(
                        transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb, beta: beta,
                        c: pc.baseAddress!, ldc: ldc)
                }
            }
        }
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<ldc {
                let (f, s) = (fast.storage[i * ldc + j], slow.storage[i * ldc + j])
                if j >= n {
                    // Padding columns of C must be untouched.
                    if f != c0.storage[i * ldc + j] { return .infinity }
                    continue
                }
                worst = max(worst, abs(f - s) / max(1, abs(s)))
            }
        }
        return worst
    }

    func testOddShapesAllTransposesAllKernels() {
        let shapes = [
            (1, 1, 1), (3, 7, 5), (33, 65, 17), (14, 32, 1), (15, 33, 257), (2, 100, 3), (129, 31, 64), (5, 1, 9),
        ]
        var seed: UInt64 = 1
        for kernel in GEMMKernel.allCases {
            for (m, n, k) in shapes {
                for transA in [false, true] {
                    for transB in [false, true] {
                        seed += 3
                        let err = compare(
                            m: m, n: n, k: k, transA: transA, transB: transB, alpha: 1, beta: 0,
                            threads: 1, kernel: kernel, seed: seed)
                        XCTAssertLessThan(err, 1e-5, "\(kernel) \(m)x\(n)x\(k) tA=\(transA) tB=\(transB)")
                    }
                }
            }
        }
    }

    func testAlphaBetaAndDeepK() {
        for kernel in GEMMKernel.allCases {
            let err = compare(
                m: 37, n: 70, k: 600, transA: false, transB: true, alpha: -0.5, beta: 0.75,
                threads: 1, kernel: kernel, seed: 99)
            XCTAssertLessThan(err, 1e-4, "\(kernel)")
        }
    }

    func testMultiThreadedMatchesReference() {
        for (m, n) in [(300, 70), (70, 300), (257, 257)] {
            let err = compare(
                m: m, n: n, k: 129, transA: true, transB: false, alpha: 1, beta: 1,
                threads: 2, kernel: .best, seed: 5)
            XCTAssertLessThan(err, 1e-4, "\(m)x\(n)")
        }
    }

    func testBetaZeroIgnoresGarbageInC() {
        let a = randomTensor([4, 3], seed: 1), b = randomTensor([3, 5], seed: 2)
        var c = Tensor(shape: [4, 5], repeating: .nan)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    GEMM.sgemm(
                        transposeA: false, transposeB: false, m: 4, n: 5, k: 3, alpha: 1, a: pa.baseAddress!, lda: 3,
                        b: pb.baseAddress!, ldb: 5, beta: 0, c: pc.baseAddress!, ldc: 5)
                }
            }
        }
        XCTAssertFalse(c.storage.contains { $0.isNaN })
        XCTAssertEqual(Tensor.matmul(a, b).maxAbsDifference(c), 0, accuracy: 1e-6)
    }

    func testKZeroScalesC() {
        var c = Tensor(shape: [2, 2], repeating: 3)
        let dummy = Tensor(shape: [1], repeating: 0)
        dummy.withUnsafeBufferPointer { p in
            c.withUnsafeMutableBufferPointer { pc in
                GEMM.sgemm(
                    transposeA: false, transposeB: false, m: 2, n: 2, k: 0, alpha: 1, a: p.baseAddress!, lda: 1,
                    b: p.baseAddress!, ldb: 2, beta: 2, c: pc.baseAddress!, ldc: 2)
            }
        }
        XCTAssertEqual(c.storage, [6, 6, 6, 6])
    }

    func testMatmulKnownValues() {
        let a = try! Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        let b = try! Tensor(shape: [3, 2], storage: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(Tensor.matmul(a, b).storage, [58, 64, 139, 154])
        XCTAssertEqual(Tensor.matmul(a, a, transposeB: true).storage, [14, 32, 32, 77])
        XCTAssertEqual(Tensor.matmul(a, a, transposeA: true).shape, [3, 3])
        XCTAssertEqual(Tensor.matmul(Tensor(shape: [0, 3]), b).shape, [0, 2])
        XCTAssertEqual(
            Tensor.matmul(Tensor(shape: [2, 0]), Tensor(shape: [0, 4])).storage, [Float](repeating: 0, count: 8))
    }
}

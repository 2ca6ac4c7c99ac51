import Foundation
import Report
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

final class ReportTests: XCTestCase {
    func testJSONKeepsOrderEscapesAndWritesNonFiniteAsNull() throws {
        let v = JSONValue.object([
            JSONMember("z", .int(1)), JSONMember("a", .number(0.001)), JSONMember("s", .string("q\"\\\n\u{1}")),
            JSONMember("inf", .number(.infinity)), JSONMember("nan", .number(.nan)),
            JSONMember("list", .numbers([1.5, 2] as [Double])),
            JSONMember("nested", .object([JSONMember("b", .bool(true))])),
        ])
        let text = v.serialized()
        XCTAssertLessThan(
            try XCTUnwrap(text.range(of: "\"z\"")).lowerBound, try XCTUnwrap(text.range(of: "\"a\"")).lowerBound)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(parsed["a"] as? Double, 0.001)
        XCTAssertEqual(parsed["s"] as? String, "q\"\\\n\u{1}")
        XCTAssertTrue(parsed["inf"] is NSNull)
        XCTAssertTrue(parsed["nan"] is NSNull)
        XCTAssertEqual(parsed["list"] as? [Double], [1.5, 2])
        XCTAssertEqual((parsed["nested"] as? [String: Any])?["b"] as? Bool, true)
        let compact = v.serialized(indent: nil)
        XCTAssertFalse(compact.contains("\n"))
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(compact.utf8)))
        XCTAssertEqual(v["z"], .int(1))
    }

    func testFormatDecimal() {
        XCTAssertEqual(formatDecimal(0.12345, digits: 3), "0.123")
        XCTAssertEqual(formatDecimal(-1.5, digits: 0), "-2")
        XCTAssertEqual(formatDecimal(2, digits: 2), "2.00")
        XCTAssertEqual(formatDecimal(-0.0004, digits: 2), "0.00")
        XCTAssertEqual(formatDecimal(.infinity, digits: 2), "inf")
    }

    func testTextTableAlignsColumns() {
        let t = TextTable(header: ["name", "value"], rows: [["auc", "0.5"], ["epsilon", "12.25"]]).render()
        XCTAssertEqual(t, "name     value\n-------  -----\nauc        0.5\nepsilon  12.25")
    }

    /// Parses `text` as XML and returns the element names seen.
    private func elements(_ text: String) throws -> [String] {
        final class Collector: NSObject, XMLParserDelegate {
            var names = [String]()
            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) { names.append(name) }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let c = Collector()
        parser.delegate = c
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        return c.names
    }

    func testPlotsAreWellFormedSVG() throws {
        let line = LinePlot(
            title: "ROC & <log>", xLabel: "fpr", yLabel: "tpr", xScale: .log, yScale: .log,
            series: [
                PlotSeries(
                    name: "a", points: [PlotPoint(0, 0), PlotPoint(0.001, 0.01), PlotPoint(1, 1)], color: "#000")
            ]
        ).svg()
        let names = try elements(line)
        XCTAssertEqual(names.first, "svg")
        XCTAssertTrue(names.contains("polyline"))
        XCTAssertTrue(line.contains("ROC &amp; &lt;log&gt;"))
        let hist = HistogramPlot(
            title: "h", xLabel: "x",
            groups: [
                .init(name: "m", values: [1, 2, 2, 3], color: "#111"),
                .init(name: "n", values: [0, 1, .nan], color: "#222"),
            ]
        ).svg()
        XCTAssertTrue(try elements(hist).contains("rect"))
        XCTAssertEqual(HistogramPlot.densities([0, 0.5, 1, 1], bins: 2, range: 0...1), [0.25, 0.75])
    }

    func testHTMLReportIsSelfContained() throws {
        let svg = LinePlot(
            title: "p", xLabel: "x", yLabel: "y",
            series: [PlotSeries(name: "s", points: [PlotPoint(0, 1)], color: "#000")]
        ).svg()
        let html = HTMLReport(
            title: "T <1>", subtitle: "sub",
            sections: [
                HTMLSection(
                    heading: "S",
                    blocks: [
                        .paragraph("a & b"), .note("n"), .table(header: ["h"], rows: [["1.5"]]),
                        .keyValues([("k", "v")]), .figures([svg]), .preformatted("cmd"),
                    ])
            ]
        ).render()
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.hasSuffix("</html>\n"))
        XCTAssertTrue(html.contains("T &lt;1&gt;"))
        XCTAssertTrue(html.contains("a &amp; b"))
        XCTAssertTrue(html.contains("<td class=\"num\">1.5</td>"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
    }

    func testProgressBarIsSilentWhenDisabled() {
        var bar = ProgressBar(label: "x", total: 3, enabled: false)
        bar.update(1)
        bar.finish()
        XCTAssertFalse(bar.enabled)
    }
}

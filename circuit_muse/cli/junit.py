"""JUnit XML for CI systems: one <testsuite> per design, one <testcase> per stage, the user's file names."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..engine.elaborate import DESIGN_FILE
from ..report import Diagnostic, Severity, VerificationReport


def user_location(d: Diagnostic, name: str) -> str:
    """The diagnostic's location with the sandbox's design file renamed to the file the user passed."""
    loc = d.location()
    if d.file and (d.file == DESIGN_FILE or d.file.endswith("/" + DESIGN_FILE)):
        loc = name + loc[len(d.file):]
    return loc


def _suite(name: str, rep: VerificationReport) -> ET.Element:
    suite = ET.Element("testsuite", name=name)
    props = ET.SubElement(suite, "properties")  # the verdict level: functional, static or failed
    ET.SubElement(props, "property", name=f"level:{name}", value=rep.level.value)
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    for st in rep.stages:
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", classname=name, name=st.name, time=f"{st.duration_s:.4f}")
        if st.skipped:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=str(st.info.get("skipped", "")))
        elif not st.passed:
            counts["failures"] += 1
            errs = [d for d in st.diagnostics if d.severity is Severity.ERROR]
            kind = st.category.value if st.category else "fail"
            msg = f"{user_location(errs[0], name)}: {errs[0].message}" if errs else kind
            fail = ET.SubElement(case, "failure", message=msg, type=kind)
            lines = [f"{user_location(d, name)}: {d.message} ({d.tool})" for d in errs]
            if st.simulation and st.simulation.vcd_path:
                lines.append(f"waveform: {st.simulation.vcd_path}")
            fail.text = "\n".join(lines)
    suite.set("tests", str(counts["tests"]))
    suite.set("failures", str(counts["failures"]))
    suite.set("errors", "0")
    suite.set("skipped", str(counts["skipped"]))
    suite.set("time", f"{rep.duration_s:.3f}")
    return suite


def junit_xml(reports: list[tuple[str, VerificationReport]]) -> str:
    """<testsuites> with a <testsuite> per design; every count equals the testcases it holds."""
    root = ET.Element("testsuites", name="circuit_muse.verify")
    suites = [_suite(name, rep) for name, rep in reports]
    root.extend(suites)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", f"{sum(r.duration_s for _, r in reports):.3f}")
    return ET.tostring(root, encoding="unicode", xml_declaration=True)

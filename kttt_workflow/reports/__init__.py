"""The report as the files a Vietnamese office sends and receives: the .docx in the layout of
Nghị định 30/2020/NĐ-CP with its appendix (:mod:`.docx`), the tracking sheet .xlsx (:mod:`.xlsx`),
and the sheet read back once a unit has filled it in (:mod:`.readback`). Each module is imported
when a command needs it: python-docx and openpyxl are not loaded at start-up.
"""

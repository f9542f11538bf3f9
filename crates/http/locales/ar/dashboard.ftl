# Tracemark web pages (ar): the dashboard area. Same keys in every language (tests/web.rs).
dash-title = لوحة المتابعة
dash-overdue-title = عمليات التعقّب المتأخرة
dash-overdue-count = { $count ->
    [0] لم تنقضِ أي مهلة.
    [one] انقضت مهلة واحدة.
    [two] انقضت مهلتان.
   *[other] عدد المهل المنقضية: { $n }.
}
dash-overdue-empty = لم تنقضِ أي مهلة. أحسنتم.
dash-overdue-what = { $obligation } مستحق على { $state }
dash-due = موعد الاستحقاق
dash-traces-title = عمليات التعقّب المفتوحة
dash-traces-count = { $count ->
    [0] لا توجد عملية تعقّب مفتوحة.
    [one] توجد عملية تعقّب مفتوحة واحدة.
    [two] توجد عمليتا تعقّب مفتوحتان.
   *[other] عدد عمليات التعقّب المفتوحة: { $n }.
}
dash-traces-empty = لا توجد عملية تعقّب مفتوحة حاليًا. يمكن بدء طلب جديد في أي وقت.
dash-trace-state = { $role }، { $status }
dash-traces-all = جميع عمليات التعقّب
dash-hits-title = نتائج تخص أصنافًا أبلغت جهتكم عن فقدانها أو سرقتها
dash-hits-empty = لم يعثر أحد على صنف أبلغت جهتكم عن فقدانه أو سرقته. سيظهر هنا إن حدث ذلك.
dash-hit-search = عُثر عليه في بحث أجرته { $agency }
dash-hit-seizure = سُجّل كمضبوط أو مسترد من قِبل { $agency }
dash-imports-title = عمليات الاستيراد الأخيرة
dash-imports-empty = لم يُسجَّل أي شيء في السجل بعد.
dash-import-summary = { $count ->
    [one] سجل واحد
    [two] سجلان
   *[other] عدد السجلات: { $n }
} (قيود السجل من { $first } إلى { $last })
dash-nothing = مرحبًا. استخدموا القائمة أعلاه للبحث في السجل.

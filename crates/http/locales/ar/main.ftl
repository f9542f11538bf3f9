# صفحات Tracemark على الويب: العربية (من اليمين إلى اليسار).

## التخطيط
skip-to-content = انتقل إلى المحتوى الرئيسي
nav-label = التنقل الرئيسي
nav-dashboard = لوحة المتابعة
nav-search = البحث
nav-record = تسجيل
nav-traces = طلبات التعقب
nav-admin = الإدارة
sign-out = تسجيل الخروج
signed-in-as = مسجّل الدخول باسم { $name } ({ $agency })
language-label = اللغة
language-apply = تغيير

## تسجيل الدخول
sign-in-title = تسجيل الدخول
sign-in-submit = دخول
field-account = اسم الحساب
field-password = كلمة المرور
field-totp = رمز المصادقة
field-totp-hint = الرمز المكوّن من 6 أرقام من تطبيق المصادقة، إن كان لحسابك تطبيق.
form-errors-title = توجد مشكلة
error-account-required = أدخل اسم حسابك.
error-password-required = أدخل كلمة المرور.
error-bad-credentials = اسم الحساب أو كلمة المرور غير صحيح. تحقّق من كليهما وحاول مرة أخرى.
error-totp-required = يتطلب دورك الرمز المكوّن من 6 أرقام من تطبيق المصادقة.
error-totp-wrong = هذا الرمز غير صحيح. أدخل الرمز الذي يعرضه تطبيقك الآن.
error-totp-replayed = سبق استخدام هذا الرمز. انتظر الرمز التالي ثم أدخله.
error-locked = هذا الحساب مقفل بعد محاولات دخول فاشلة متكررة. حاول مرة أخرى بعد { $minutes ->
    [zero] { $minutes } دقيقة
    [one] دقيقة واحدة
    [two] دقيقتين
    [few] { $minutes } دقائق
    [many] { $minutes } دقيقة
   *[other] { $minutes } دقيقة
}.
error-enrolment-required = يتطلب دورك عاملاً ثانياً للمصادقة وليس لحسابك عامل بعد. اطلب من أحد المسؤولين تسجيله.
error-csrf = انتهت صلاحية هذا النموذج أو لم يأتِ من هذا الموقع. أعد تحميل الصفحة وحاول مرة أخرى.

## البحث
search-title = البحث في السجل
search-label = العلامة أو الرقم التسلسلي
search-hint = اكتبه كما تقرؤه، بأي كتابة. استخدم ? لحرف واحد غير مقروء و* لأي سلسلة من الحروف.
search-submit = بحث
search-total = { $count ->
    [0] لا يوجد سلاح مطابق.
    [one] نتيجة واحدة.
    [two] نتيجتان.
    [few] { $count } نتائج.
    [many] { $count } نتيجة.
   *[other] { $count } نتيجة.
}
search-distance = { $count ->
    [one] يختلف حرف واحد
    [two] يختلف حرفان
    [few] تختلف { $count } حروف
   *[other] يختلف { $count } حرفاً
}
col-marking = العلامة
col-item = السلاح
col-description = الصانع، الطراز، العيار
col-status = الحالة
match-exact = تطابقات تامة
match-exact-reason = تُقرأ العلامة تماماً كما كتبتها (دون اعتبار المسافات والشرطات وحالة الأحرف).
match-normalized = العلامة نفسها بكتابة أخرى
match-normalized-reason = متطابقة بعد توحيد الحروف المتشابهة في الكتابات الأخرى وأخطاء القراءة الشائعة، مثل حرف Р السيريلي المقروء P لاتينياً، أو الحرف O المقروء 0.
match-wildcard = تطابقات النمط
match-wildcard-reason = العلامة توافق النمط: ? تعني حرفاً واحداً، و* أي سلسلة.
match-fuzzy = تطابقات قريبة
match-fuzzy-reason = تختلف العلامة بحرف أو حرفين: خطأ في القراءة، أو حرف ناقص أو زائد.
alert-missing = تنبيه: { $event }. اتصل بـ{ $contact }.
alert-contact-agency = الجهة المبلِّغة، { $agency }
alert-contact-poc = جهة الاتصال الوطنية
error-search-query = لا يمكن إجراء هذا البحث. تحقّق من العلامة: يلزم حرف أو رقم واحد على الأقل.

## السلاح
item-title = السلاح
item-identification = بيانات التعريف
item-kind = الفئة
item-type = النوع
item-make = الصانع
item-model = الطراز
item-calibre = العيار
item-country = بلد الصنع
item-year = سنة الصنع
item-national-id = المعرّف الوطني
item-status = الحالة
item-holder = الحائز الحالي
item-markings = العلامات
marking-kind = النوع
marking-as-seen = كما تُقرأ
marking-normalized = الصيغة الموحّدة
marking-visual = مفتاح البحث
marking-component = القطعة
marking-legibility = الوضوح
custody-title = سلسلة الحيازة
custody-purpose-label = الغرض من الاطلاع
custody-purpose-hint = تذكر سلسلة الحيازة أسماء الحائزين. اذكر سبب حاجتك إليها (مثل رقم القضية)؛ يُسجَّل هذا الغرض.
custody-show = عرض سلسلة الحيازة
custody-empty = لا يوجد حدث مسجّل لهذا السلاح.
custody-void = مصحَّح
custody-from = من
custody-to = إلى
custody-place = المكان
custody-status-after = الحالة بعده
custody-ledger = قيد السجل { $index }
custody-diversion-reported = فُقدت السيطرة عليه في { $date } (تم الإبلاغ).
custody-diversion-seized = ضُبط في { $date } دون بلاغ سابق بفقدانه أو سرقته.
error-purpose-invalid = يجب ألا يتجاوز الغرض { $max } حرفاً قابلاً للطباعة.

## الأخطاء
error-title = حدث خطأ
error-forbidden = لا يمكنك الاطلاع على هذا: دورك أو جهتك لا يخوّلانك ذلك.
error-not-found = لا توجد صفحة أو سلاح بهذا المعرّف.
error-unavailable = قاعدة بيانات السجل لا تستجيب. حاول مرة أخرى بعد قليل.
error-internal = تعطّل الخادم. يرجى إبلاغ المسؤول.
error-bad-request = لا يمكن تلبية هذا الطلب.
error-reference = مرجع للمسؤول: { $id }
error-home = الذهاب إلى صفحة البداية

## التواريخ
date-day = { $day } { $month } { $year }
date-month = { $month } { $year }
month-1 = يناير
month-2 = فبراير
month-3 = مارس
month-4 = أبريل
month-5 = مايو
month-6 = يونيو
month-7 = يوليو
month-8 = أغسطس
month-9 = سبتمبر
month-10 = أكتوبر
month-11 = نوفمبر
month-12 = ديسمبر

## حالة السلاح
status-recorded = مسجّل
status-in-stock = في المخزن
status-in-service = في الخدمة
status-civilian-held = بحوزة مدني
status-exported = مُصدَّر
status-lost = مفقود
status-stolen = مسروق
status-recovered = مُسترَد
status-seized = مضبوط
status-surrendered = مُسلَّم طوعاً
status-deactivated = مُعطَّل
status-destroyed = مُتلَف

## أحداث سلسلة الحيازة
event-manufactured = الصنع
event-imported = الاستيراد
event-exported = التصدير
event-transferred = النقل
event-assigned = التخصيص
event-returned = الإعادة
event-reported-lost = الإبلاغ عن فقدان
event-reported-stolen = الإبلاغ عن سرقة
event-recovered = الاسترداد
event-seized = الضبط
event-surrendered = التسليم الطوعي
event-marked = الوسم
event-component-replaced = استبدال قطعة
event-converted = التحويل
event-deactivated = التعطيل
event-destroyed = الإتلاف
event-corrected = التصحيح

## أنواع العلامات
mark-serial = الرقم التسلسلي
mark-manufacturer = الصانع
mark-country = البلد
mark-year = السنة
mark-model = الطراز
mark-calibre = العيار
mark-import = علامة الاستيراد
mark-proof = علامة الاختبار
mark-factory-code = رمز المصنع
mark-secondary = علامة ثانوية
mark-state-ownership = ملكية الدولة
mark-lot = رقم الدفعة
mark-headstamp = علامة قاعدة الظرف
mark-code-2d = رمز ثنائي الأبعاد
mark-rfid = وسم RFID
mark-covert = علامة مخفية
mark-other = أخرى

## الوضوح
legibility-clear = واضحة
legibility-partial = مقروءة جزئياً
legibility-obliterated = ممحوّة
legibility-restored = مستعادة
